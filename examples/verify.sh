#!/bin/sh
# verify.sh — check a trailbook evidence site with POSIX sh, coreutils and ssh-keygen only,
# without trusting trailbook. The same checks as `trailbook verify`:
#   - every file of every version matches its SHA-256 in the version's SHA256SUMS, and no file
#     was added or removed (sha256sum -c ignores unlisted files, so the lists are compared);
#   - SHA256SUMS.sig is a good signature (with -s: by a key of your allowed_signers file);
#   - each vN/PREVIOUS holds the SHA-256 of v(N-1)/SHA256SUMS, and versions run 1..N;
#   - log/entries has one line per version with its manifest's SHA-256;
#   - log/checkpoint is the RFC 6962 Merkle root of log/entries (and is signed, with -s);
#   - with -c: a checkpoint you kept earlier is a prefix of today's log (only appended to).
#
# usage: sh verify.sh [-s ALLOWED_SIGNERS -I IDENTITY] [-n NAMESPACE] [-c KEPT_CHECKPOINT] SITE
#   SITE             the site root (holds versions.json, log/ and v1/, v2/, ...)
#   ALLOWED_SIGNERS  an OpenSSH allowed_signers file with the publisher's key
#   IDENTITY         the signer identity in that file (the site's integrity page names it)
#   NAMESPACE        the signature namespace (default: trailbook; the checkpoint uses
#                    NAMESPACE-checkpoint)
# exit status: 0 intact, 1 tampered (each problem is printed), 2 could not run.

set -u
LC_ALL=C
export LC_ALL

allowed= identity= namespace=trailbook kept=
usage() {
	echo "usage: sh verify.sh [-s ALLOWED_SIGNERS -I IDENTITY] [-n NAMESPACE] [-c KEPT_CHECKPOINT] SITE" >&2
	exit 2
}
while getopts s:I:n:c: opt; do
	case $opt in
	s) allowed=$OPTARG ;;
	I) identity=$OPTARG ;;
	n) namespace=$OPTARG ;;
	c) kept=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
site=$1
if [ -n "$allowed" ] && [ -z "$identity" ]; then
	echo "verify.sh: -s needs -I IDENTITY (the signer identity in $allowed)" >&2
	exit 2
fi
[ -d "$site" ] || { echo "verify.sh: $site is not a folder: give the site root" >&2; exit 2; }
[ -z "$allowed" ] || [ -r "$allowed" ] || { echo "verify.sh: cannot read $allowed" >&2; exit 2; }
[ -z "$kept" ] || [ -r "$kept" ] || { echo "verify.sh: cannot read $kept" >&2; exit 2; }
command -v sha256sum >/dev/null || { echo "verify.sh: sha256sum is needed" >&2; exit 2; }

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
problems=0
fail() {
	echo "TAMPERED  $*"
	problems=$((problems + 1))
}
note() {
	echo "note      $*"
}

# --- versions 1..N ------------------------------------------------------------------------------
ls "$site" | grep -E '^v[1-9][0-9]*$' | sed 's/^v//' | sort -n >"$tmp/versions"
count=$(wc -l <"$tmp/versions")
[ "$count" -gt 0 ] || [ -f "$site/log/entries" ] || {
	echo "verify.sh: $site holds no site version (no v1/ and no log/entries)" >&2
	exit 2
}
i=0
while read -r n; do
	i=$((i + 1))
	[ "$n" -eq "$i" ] || { fail "v$i: missing (a published version was removed)"; break; }
done <"$tmp/versions"

# --- each version -------------------------------------------------------------------------------
signed=0
while read -r n; do
	v="$site/v$n"
	if [ ! -f "$v/SHA256SUMS" ]; then
		fail "v$n/SHA256SUMS: missing; the version cannot be checked"
		continue
	fi
	# Digests (sha256sum prints the bad and missing files).
	if ! (cd "$v" && sha256sum -c --strict --quiet SHA256SUMS) >"$tmp/sums.out" 2>/dev/null; then
		sed -n 's/: FAILED open or read$/: listed in SHA256SUMS but missing/p; s/: FAILED$/: content differs from its SHA-256 in SHA256SUMS (modified)/p' \
			"$tmp/sums.out" >"$tmp/bad"
		if [ -s "$tmp/bad" ]; then
			while read -r line; do fail "v$n/$line"; done <"$tmp/bad"
		else
			fail "v$n/SHA256SUMS: improperly formatted (sha256sum --strict rejects it)"
		fi
	fi
	# Byte order, no repeats, and no file added or removed.
	cut -c67- "$v/SHA256SUMS" >"$tmp/listed"
	sort -c -u "$tmp/listed" 2>/dev/null || fail "v$n/SHA256SUMS: paths are not byte-sorted and unique"
	(cd "$v" && find . -type f ! -name SHA256SUMS ! -name SHA256SUMS.sig | sed 's|^\./||' | sort) >"$tmp/present"
	sort "$tmp/listed" | comm -13 - "$tmp/present" | while read -r f; do echo "TAMPERED  v$n/$f: not listed in SHA256SUMS (added)"; done >"$tmp/added"
	[ -s "$tmp/added" ] && { cat "$tmp/added"; problems=$((problems + $(wc -l <"$tmp/added"))); }
	# Signature.
	if [ -f "$v/SHA256SUMS.sig" ]; then
		if [ -n "$allowed" ]; then
			ssh-keygen -Y verify -f "$allowed" -I "$identity" -n "$namespace" -s "$v/SHA256SUMS.sig" <"$v/SHA256SUMS" >/dev/null 2>&1 &&
				signed=$((signed + 1)) ||
				fail "v$n/SHA256SUMS.sig: not a good signature by $identity (namespace $namespace) in $allowed"
		else
			ssh-keygen -Y check-novalidate -n "$namespace" -s "$v/SHA256SUMS.sig" <"$v/SHA256SUMS" >/dev/null 2>&1 &&
				signed=$((signed + 1)) ||
				fail "v$n/SHA256SUMS.sig: the signature does not match SHA256SUMS (namespace $namespace)"
		fi
	elif [ -n "$allowed" ]; then
		fail "v$n: unsigned, but an allowed signers file was given"
	fi
	# PREVIOUS.
	if [ "$n" -eq 1 ]; then
		[ ! -e "$v/PREVIOUS" ] || fail "v1/PREVIOUS: the first version cannot have a previous one"
	elif [ ! -f "$v/PREVIOUS" ]; then
		fail "v$n/PREVIOUS: missing; the version is not chained to v$((n - 1))"
	else
		p=$((n - 1))
		want="$(sha256sum <"$site/v$p/SHA256SUMS" 2>/dev/null | cut -c1-64)  ../v$p/SHA256SUMS"
		[ "$(cat "$v/PREVIOUS")" = "$want" ] ||
			fail "v$n/PREVIOUS: does not hold the SHA-256 of ../v$p/SHA256SUMS: v$p was changed after v$n was built"
	fi
done <"$tmp/versions"

# --- log/entries --------------------------------------------------------------------------------
entries="$site/log/entries"
logged=0
[ -f "$entries" ] && logged=$(wc -l <"$entries")
i=0
while [ "$i" -lt "$logged" ]; do
	i=$((i + 1))
	line=$(sed -n "${i}p" "$entries")
	if [ ! -f "$site/v$i/SHA256SUMS" ]; then
		fail "log/entries line $i: v$i is logged but missing"
	else
		want="$(sha256sum <"$site/v$i/SHA256SUMS" | cut -c1-64)  v$i/SHA256SUMS"
		[ "$line" = "$want" ] || fail "log/entries line $i: not the SHA-256 of v$i/SHA256SUMS: v$i was replaced after it was published"
	fi
done
last=$(tail -n 1 "$tmp/versions")
while read -r n; do
	if [ "$n" -gt "$logged" ]; then
		if [ "$n" -eq $((logged + 1)) ] && [ "$n" = "$last" ]; then
			note "v$n is not in log/entries yet (its build was interrupted before logging it)"
		else
			fail "v$n: not in log/entries"
		fi
	fi
done <"$tmp/versions"

# --- RFC 6962 Merkle tree hash over the first N lines of a file ---------------------------------
hex2bin() {
	h=$1
	while [ -n "$h" ]; do
		b=${h%"${h#??}"}
		h=${h#??}
		# shellcheck disable=SC2059
		printf "\\$(printf '%03o' "0x$b")"
	done
}
# mth FILE_OF_LEAF_HASHES START COUNT: prints the root (hex) of COUNT leaves from line START.
mth() (
	if [ "$3" -eq 0 ]; then
		printf '' | sha256sum | cut -c1-64
	elif [ "$3" -eq 1 ]; then
		sed -n "${2}p" "$1"
	else
		k=1
		while [ $((k * 2)) -lt "$3" ]; do k=$((k * 2)); done
		l=$(mth "$1" "$2" "$k")
		r=$(mth "$1" $(($2 + k)) $(($3 - k)))
		{ printf '\001'; hex2bin "$l"; hex2bin "$r"; } | sha256sum | cut -c1-64
	fi
)
# root_b64 N: the base64 root of the first N lines of log/entries ("" when it has fewer).
root_b64() {
	[ "$1" -le "$logged" ] || return 0
	: >"$tmp/leaves"
	head -n "$1" "$entries" | while IFS= read -r line; do
		{ printf '\000'; printf '%s' "$line"; } | sha256sum | cut -c1-64
	done >"$tmp/leaves"
	hex2bin "$(mth "$tmp/leaves" 1 "$1")" | base64
}

# --- log/checkpoint -----------------------------------------------------------------------------
cp="$site/log/checkpoint"
if [ -f "$cp" ]; then
	size=$(sed -n 2p "$cp")
	case $size in '' | *[!0-9]*) size=-1 ;; esac
	if [ "$size" -lt 0 ]; then
		fail "log/checkpoint: line 2 is not a size"
	elif [ "$size" -gt "$logged" ]; then
		fail "log/checkpoint: covers $size entries but log/entries has $logged: the log was truncated"
	elif [ "$(root_b64 "$size")" != "$(sed -n 3p "$cp")" ]; then
		fail "log/checkpoint: not the root of the first $size lines of log/entries: the log was rewritten"
	fi
	# The signature; a build killed while replacing the pair leaves the other half in log/.pending.
	if [ -f "$site/log/checkpoint.sig" ] || [ -f "$site/log/.pending/checkpoint.sig" ]; then
		ok=
		for body in "$cp" "$site/log/.pending/checkpoint"; do
			for sig in "$site/log/checkpoint.sig" "$site/log/.pending/checkpoint.sig"; do
				[ -f "$body" ] && [ -f "$sig" ] || continue
				if [ -n "$allowed" ]; then
					ssh-keygen -Y verify -f "$allowed" -I "$identity" -n "$namespace-checkpoint" -s "$sig" <"$body" >/dev/null 2>&1 && ok=1
				else
					ssh-keygen -Y check-novalidate -n "$namespace-checkpoint" -s "$sig" <"$body" >/dev/null 2>&1 && ok=1
				fi
				[ -z "$ok" ] || break 2
			done
		done
		[ -n "$ok" ] || fail "log/checkpoint.sig: not a good signature over log/checkpoint (namespace $namespace-checkpoint)"
	elif [ "$signed" -gt 0 ] || [ -n "$allowed" ]; then
		fail "log/checkpoint.sig: missing, but the versions are signed"
	fi
elif [ "$logged" -gt 0 ]; then
	fail "log/checkpoint: missing"
fi

# --- a checkpoint kept from earlier -------------------------------------------------------------
if [ -n "$kept" ]; then
	ksize=$(sed -n 2p "$kept")
	case $ksize in '' | *[!0-9]*) echo "verify.sh: $kept is not a checkpoint" >&2; exit 2 ;; esac
	if [ -f "$cp" ] && [ "$(sed -n 1p "$cp")" != "$(sed -n 1p "$kept")" ]; then
		fail "log/checkpoint: its origin is not the one of the checkpoint you kept"
	fi
	if [ "$ksize" -gt "$logged" ]; then
		fail "log/entries: has $logged lines, fewer than the $ksize of the checkpoint you kept: history was truncated"
	elif [ "$(root_b64 "$ksize")" != "$(sed -n 3p "$kept")" ]; then
		fail "log/entries: the first $ksize lines are not the ones of the checkpoint you kept: history was rewritten"
	else
		note "the checkpoint you kept ($ksize entries) is a prefix of today's log"
	fi
fi

if [ "$problems" -gt 0 ]; then
	echo "TAMPERED: $problems problem(s) in $site ($count versions)"
	exit 1
fi
echo "intact: $count versions of $site, $signed signed"
exit 0
