// Browser tests of a built evidence site (issue 4): every page of the site is loaded from
// file:// in headless Chromium and must show no console error, make no request outside the site
// (no network at all), have no broken link or fragment, and have zero serious or critical axe
// violations. The overview is also checked with JavaScript off and printed to A4. Screenshots of
// the overview, a model version card and the lineage page are saved for people to look at.
//
// Usage: NODE_PATH=DEPS/node_modules node tests/browser/check.cjs SITE_ROOT OUT_DIR
"use strict";
const fs = require("fs");
const path = require("path");
const { pathToFileURL, fileURLToPath } = require("url");
const { chromium } = require("playwright-core");
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const [root, outDir] = process.argv.slice(2).map((p) => path.resolve(p));
if (!root || !outDir) {
  console.error("usage: check.cjs SITE_ROOT OUT_DIR");
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.name.startsWith(".")) return [];
    return e.isDirectory() ? walk(p) : [p];
  });
}

const files = walk(root).filter((f) => f.endsWith(".html")).sort();
const idCache = new Map();
function idsOf(file) {
  if (!idCache.has(file)) {
    const html = fs.readFileSync(file, "utf8");
    idCache.set(file, new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1])));
  }
  return idCache.get(file);
}

const problems = [];
function problem(file, what) {
  problems.push(`${path.relative(root, file)}: ${what}`);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const context = await browser.newContext();
  let checked = 0;
  for (const file of files) {
    const page = await context.newPage();
    const url = pathToFileURL(file).href;
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problem(file, `console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problem(file, `script error: ${e.message}`));
    page.on("request", (r) => {
      if (!r.url().startsWith("file://")) problem(file, `request outside the site: ${r.url()}`);
    });
    page.on("requestfailed", (r) => problem(file, `failed request: ${r.url()} (${r.failure()?.errorText})`));
    await page.goto(url, { waitUntil: "load" });

    // Links: every relative link must reach a file of the site, and its fragment an id there.
    const hrefs = await page.$$eval("a[href]", (as) => as.map((a) => new URL(a.getAttribute("href"), document.baseURI).href));
    for (const href of hrefs) {
      if (!href.startsWith("file://")) {
        if (!/^(https?:|mailto:)/.test(href)) problem(file, `link with a bad scheme: ${href}`);
        continue;
      }
      const u = new URL(href);
      const target = fileURLToPath(u.origin === "null" ? `file://${u.pathname}` : href.split("#")[0]);
      if (!fs.existsSync(target)) {
        problem(file, `broken link: ${href}`);
        continue;
      }
      const frag = decodeURIComponent(u.hash.slice(1));
      if (frag && target.endsWith(".html") && !idsOf(target).has(frag)) {
        problem(file, `link to a missing anchor: ${path.relative(root, target)}#${frag}`);
      }
    }

    // Headings in order: one h1, no level skipped.
    const levels = await page.$$eval("h1,h2,h3,h4,h5,h6", (hs) => hs.map((h) => Number(h.tagName[1])));
    if (levels.filter((l) => l === 1).length !== 1) problem(file, `expected one h1, found ${levels.filter((l) => l === 1).length}`);
    levels.reduce((prev, l) => {
      if (l > prev + 1) problem(file, `heading h${l} follows h${prev}`);
      return l;
    }, 0);

    await page.evaluate(axeSource);
    const result = await page.evaluate(() =>
      window.axe.run(document, { resultTypes: ["violations"], preload: false })
    );
    for (const v of result.violations) {
      if (v.impact === "serious" || v.impact === "critical") {
        const where = v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ");
        problem(file, `axe ${v.impact}: ${v.id} (${v.help}) at ${where}`);
      }
    }
    await page.close();
    checked++;
  }

  // Screenshots and print for people; the newest version's pages.
  const versions = fs.readdirSync(root).filter((d) => /^v\d+$/.test(d)).sort((a, b) => Number(b.slice(1)) - Number(a.slice(1)));
  if (versions.length === 0) problem(root, "no version folder");
  else {
    const v = path.join(root, versions[0]);
    const modelDir = path.join(v, "models");
    const card = walk(modelDir).filter((f) => !f.endsWith("index.html") && f.endsWith(".html")).sort()[0];
    const shots = [["overview", path.join(v, "index.html")], ["lineage", path.join(v, "lineage.html")]];
    if (card) shots.push(["model-version", card]);
    else problem(modelDir, "no model version page");
    const page = await context.newPage();
    page.setViewportSize({ width: 1280, height: 900 });
    for (const [name, file] of shots) {
      await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
      await page.screenshot({ path: path.join(outDir, `${name}.png`), fullPage: true });
    }
    await page.goto(pathToFileURL(path.join(v, "index.html")).href, { waitUntil: "load" });
    await page.emulateMedia({ media: "print" });
    await page.pdf({ path: path.join(outDir, "overview-a4.pdf"), format: "A4" });
    await page.close();

    // JavaScript off: the pages are complete without the optional script.
    const noJs = await browser.newContext({ javaScriptEnabled: false });
    const p2 = await noJs.newPage();
    await p2.goto(pathToFileURL(path.join(v, "findings.html")).href, { waitUntil: "load" });
    const rows = await p2.$$eval("main table tbody tr", (r) => r.length);
    const h1 = await p2.$eval("h1", (h) => h.textContent);
    if (!h1 || rows === 0) problem(path.join(v, "findings.html"), "with JavaScript off the findings table is empty");
    await noJs.close();
  }
  await browser.close();

  if (problems.length) {
    console.error(`browser tests: ${problems.length} problem(s) in ${checked} pages:`);
    for (const p of problems) console.error(`  ${p}`);
    process.exit(1);
  }
  console.log(`browser tests: ${checked} pages loaded from file://, no console error, no request outside the site, no broken link, no serious or critical axe violation; screenshots in ${outDir}`);
})().catch((e) => {
  console.error(`browser tests could not run: ${e.stack || e}`);
  process.exit(2);
});
