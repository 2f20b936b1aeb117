# Converts one man page written in a small markdown subset into troff (man
# macros). POSIX awk only (mawk, gawk, busybox awk): the build runs it on
# the build host, including cross builds where no program of the project
# can be executed, which rules out generating pages from --help output.
#
# usage: awk -v version=X.Y.Z -f md2man.awk PAGE.md > PAGE.N
#
# The subset:
#   # name(N) -- summary     first line: .TH and the NAME section
#   ## HEADING                .SH
#   ### Heading               .SS
#   * term:                   a definition (.TP); the description follows on
#     description             lines indented by two or more spaces
#   * text                    a bullet item
#   ```                       verbatim block, up to the next ``` line
#   blank line                ends a paragraph, item or definition
#   `code`, **bold**          bold
#   *text*                    italic
#
# Anything else is paragraph text. Malformed input (no title line, an
# unterminated ``` block or inline markup) is an error: a page that renders
# wrongly in silence is worse than a failed build.

function die(msg) {
	printf("md2man: %s:%d: %s\n", FILENAME, FNR, msg) > "/dev/stderr"
	failed = 1
	exit 1
}

# troff escapes for literal text: backslash first, then the minus sign
# (a plain '-' is a hyphen that troff may turn into a dash or break at).
function esc(s) {
	gsub(/\\/, "\\e", s)
	gsub(/-/, "\\-", s)
	return s
}

# A line must not start with a control character, or troff takes it for a
# request.
function guard(s) {
	if (s ~ /^[.']/)
		return "\\&" s
	return s
}

# Inline markup, scanned left to right so that markers inside code spans
# are left alone.
function inline(s,    out, c, end, rest) {
	out = ""
	while (length(s) > 0) {
		c = substr(s, 1, 1)
		if (c == "`") {
			rest = substr(s, 2)
			end = index(rest, "`")
			if (end == 0)
				die("unterminated `code`")
			out = out "\\fB" esc(substr(rest, 1, end - 1)) "\\fR"
			s = substr(rest, end + 1)
		} else if (substr(s, 1, 2) == "**") {
			rest = substr(s, 3)
			end = index(rest, "**")
			if (end == 0)
				die("unterminated **bold**")
			out = out "\\fB" inline(substr(rest, 1, end - 1)) "\\fR"
			s = substr(rest, end + 2)
		} else if (c == "*" && substr(s, 2, 1) != " " && length(s) > 1) {
			rest = substr(s, 2)
			end = index(rest, "*")
			if (end == 0)
				die("unterminated *italic*")
			out = out "\\fI" inline(substr(rest, 1, end - 1)) "\\fR"
			s = substr(rest, end + 1)
		} else {
			out = out esc(c)
			s = substr(s, 2)
		}
	}
	return out
}

function text(s) {
	sub(/^[ \t]+/, "", s)
	print guard(inline(s))
}

BEGIN {
	state = "start" # start, para, item, def, verbatim
	failed = 0
}

FNR == 1 {
	if ($0 !~ /^# [A-Za-z0-9_.-]+\([0-9][a-z]*\) -- ./)
		die("first line must be '# name(N) -- summary'")
	title = $0
	sub(/^# /, "", title)
	name = title
	sub(/\(.*/, "", name)
	section = title
	sub(/^[^(]*\(/, "", section)
	sub(/\).*/, "", section)
	summary = title
	sub(/^[^)]*\) -- /, "", summary)
	manual = (section ~ /^8/) ? "System Administration" : "User Commands"
	upper = toupper(name)
	# The source's base name only: a build path in an installed file makes the
	# output depend on where it was built.
	src = FILENAME
	sub(/^.*\//, "", src)
	printf(".\\\" Generated from %s by md2man.awk: edit the markdown, not this file.\n", src)
	printf(".TH \"%s\" \"%s\" \"\" \"ima-initramfs %s\" \"%s\"\n", esc(upper), section, version, manual)
	print ".nh"
	print ".ad l"
	print ".SH NAME"
	print esc(name) " \\- " inline(summary)
	state = "para"
	next
}

state == "verbatim" {
	if ($0 ~ /^```/) {
		print ".fi"
		print ".RE"
		state = "start"
	} else {
		print guard(esc($0))
	}
	next
}

/^```/ {
	print ".PP"
	print ".RS 4"
	print ".nf"
	state = "verbatim"
	next
}

/^[ \t]*$/ {
	if (state == "item" || state == "def")
		state = "list_end"
	else if (state != "heading")
		state = "start"
	next
}

/^## / {
	h = $0
	sub(/^## +/, "", h)
	print ".SH " esc(toupper(h))
	state = "heading"
	next
}

/^### / {
	h = $0
	sub(/^### +/, "", h)
	print ".SS " inline(h)
	state = "heading"
	next
}

/^\* .*:$/ {
	t = $0
	sub(/^\* /, "", t)
	sub(/:$/, "", t)
	print ".TP"
	print guard(inline(t))
	state = "def"
	next
}

/^\* / {
	t = $0
	sub(/^\* /, "", t)
	print ".IP \\(bu 2"
	text(t)
	state = "item"
	next
}

/^  / {
	if (state == "def" || state == "item") {
		text($0)
		next
	}
	if (state == "list_end") {
		die("indented text after a blank line: continue the item without a blank line")
	}
}

{
	if (state == "start" || state == "list_end")
		print ".PP"
	else if (state == "item" || state == "def")
		die("text right after a list item must be indented by two spaces")
	state = "para"
	text($0)
}

END {
	if (failed)
		exit 1
	if (NR == 0)
		die("empty input")
	if (state == "verbatim")
		die("unterminated ``` block")
}
