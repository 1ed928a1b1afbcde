//! Hash-chain verification of one source (`INTEGRITY.md` §1, `RULES.md` LOG-02).
//!
//! A source's lines form one stream: its files in the order of their first readable `seq` (then
//! path), lines in file order. Verification keeps O(1) state, reports every break, gap and repeat
//! with the expected and found value, and re-anchors on the line actually found, so one edit never
//! hides the next.

use serde::Serialize;

use super::jsonl::ChainFields;

/// The kind of a chain problem, by LOG-02's check letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainProblem {
    /// (a) `prev` ≠ SHA-256 of the previous line.
    Break,
    /// (b) `seq` jumped forward.
    Gap,
    /// (c) `seq` did not increase.
    Repeat,
    /// (d) a line of a `required` source without a readable `seq` or `prev`.
    Unchained,
}

impl ChainProblem {
    pub fn letter(self) -> &'static str {
        match self {
            ChainProblem::Break => "a",
            ChainProblem::Gap => "b",
            ChainProblem::Repeat => "c",
            ChainProblem::Unchained => "d",
        }
    }
}

/// One problem at one line.
#[derive(Clone, Debug, Serialize)]
pub struct ChainIssue {
    pub problem: ChainProblem,
    /// File index (into the ingest file table), 1-based line, and the line's byte span.
    pub file: u32,
    pub line: u64,
    pub offset: u64,
    pub len: u64,
    /// 1-based byte column of `prev` (or of the line for seq problems).
    pub column: usize,
    pub expected: String,
    pub found: String,
}

/// One line as the chain sees it.
pub struct ChainLine {
    pub file: u32,
    pub line: u64,
    pub offset: u64,
    pub len: u64,
    pub hash: [u8; 32],
    pub fields: ChainFields,
}

/// What verification found in one source.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ChainResult {
    pub issues: Vec<ChainIssue>,
    /// Lines with a readable `seq` and `prev`.
    pub chained_lines: u64,
    /// Lines k−1 and k of every break, gap or repeat: `(file, line)`.
    pub unverified: Vec<(u32, u64)>,
    /// SHA-256 of the stream's last line, and its seq.
    pub head: Option<String>,
    pub last_seq: Option<u64>,
}

/// Verifies a stream of lines. `required`: unchained lines are problems (d).
pub fn verify<'a>(
    lines: impl Iterator<Item = &'a ChainLine>,
    anchor: [u8; 32],
    first_seq: u64,
    required: bool,
) -> ChainResult {
    let mut out = ChainResult::default();
    let mut expected_prev = anchor;
    let mut prev_seq: Option<u64> = None;
    let mut prev_pos: Option<(u32, u64)> = None;
    for l in lines {
        let mut failed = false;
        match l.fields.prev {
            Some((found, column)) if found != expected_prev => {
                out.issues.push(ChainIssue {
                    problem: ChainProblem::Break,
                    file: l.file,
                    line: l.line,
                    offset: l.offset,
                    len: l.len,
                    column,
                    expected: hex::encode(expected_prev),
                    found: hex::encode(found),
                });
                failed = true;
            }
            Some(_) => {}
            None if required => out.issues.push(ChainIssue {
                problem: ChainProblem::Unchained,
                file: l.file,
                line: l.line,
                offset: l.offset,
                len: l.len,
                column: 1,
                expected: "`seq` and `prev`".into(),
                found: "none readable".into(),
            }),
            None => {}
        }
        let want = prev_seq.map_or(first_seq, |s| s.saturating_add(1));
        match l.fields.seq {
            Some(seq) => {
                if seq != want {
                    let problem = if seq > want {
                        ChainProblem::Gap
                    } else {
                        ChainProblem::Repeat
                    };
                    out.issues.push(ChainIssue {
                        problem,
                        file: l.file,
                        line: l.line,
                        offset: l.offset,
                        len: l.len,
                        column: 1,
                        expected: format!("seq {want}"),
                        found: format!("seq {seq}"),
                    });
                    failed = true;
                }
                prev_seq = Some(seq);
            }
            None => {
                if required && l.fields.prev.is_some() {
                    out.issues.push(ChainIssue {
                        problem: ChainProblem::Unchained,
                        file: l.file,
                        line: l.line,
                        offset: l.offset,
                        len: l.len,
                        column: 1,
                        expected: "`seq` and `prev`".into(),
                        found: "no readable `seq`".into(),
                    });
                }
                prev_seq = Some(want);
            }
        }
        if l.fields.seq.is_some() && l.fields.prev.is_some() {
            out.chained_lines += 1;
        }
        if failed {
            if let Some(p) = prev_pos {
                out.unverified.push(p);
            }
            out.unverified.push((l.file, l.line));
        }
        expected_prev = l.hash;
        prev_pos = Some((l.file, l.line));
        out.head = Some(hex::encode(l.hash));
        out.last_seq = prev_seq;
    }
    out.unverified.sort_unstable();
    out.unverified.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: u64, seq: Option<u64>, prev: Option<[u8; 32]>) -> ChainLine {
        ChainLine {
            file: 0,
            line: n,
            offset: 0,
            len: 0,
            hash: [n as u8; 32],
            fields: ChainFields {
                seq,
                prev: prev.map(|p| (p, 10)),
            },
        }
    }

    #[test]
    fn a_good_chain_has_no_issues() {
        let lines = [
            line(1, Some(1), Some([0; 32])),
            line(2, Some(2), Some([1; 32])),
            line(3, Some(3), Some([2; 32])),
        ];
        let r = verify(lines.iter(), [0; 32], 1, true);
        assert!(r.issues.is_empty());
        assert_eq!(r.chained_lines, 3);
        assert_eq!(r.last_seq, Some(3));
    }

    #[test]
    fn every_break_is_reported_and_verification_reanchors() {
        // Line 2's bytes changed (its hash is no longer what line 3 recorded), and line 5 was removed.
        let lines = [
            line(1, Some(1), Some([0; 32])),
            line(2, Some(2), Some([1; 32])),
            line(3, Some(3), Some([9; 32])),
            line(4, Some(4), Some([3; 32])),
            line(6, Some(6), Some([4; 32])),
        ];
        let r = verify(lines.iter(), [0; 32], 1, true);
        let got: Vec<_> = r.issues.iter().map(|i| (i.problem, i.line)).collect();
        assert_eq!(got, [(ChainProblem::Break, 3), (ChainProblem::Gap, 6)]);
        assert_eq!(r.issues[0].expected, hex::encode([2u8; 32]));
        assert_eq!(r.unverified, [(0, 2), (0, 3), (0, 4), (0, 6)]);
    }

    #[test]
    fn repeats_and_unchained_lines() {
        let lines = [
            line(1, Some(1), Some([0; 32])),
            line(2, Some(1), Some([1; 32])),
            line(3, None, None),
            line(4, Some(3), Some([3; 32])),
        ];
        let r = verify(lines.iter(), [0; 32], 1, true);
        let got: Vec<_> = r.issues.iter().map(|i| (i.problem, i.line)).collect();
        assert_eq!(
            got,
            [(ChainProblem::Repeat, 2), (ChainProblem::Unchained, 3)]
        );
    }
}
