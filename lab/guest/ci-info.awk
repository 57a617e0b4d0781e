# Renders cloud-init's "Net device info" table (cloud-init 25.x, drawn by prettytable) from rows of
# "Device Up Address Mask Scope Hw-Address" on stdin. Padding follows prettytable's centring
# (odd excess: more space on the right for odd-length text, on the left for even-length text) and
# the title line follows Python's str.center(width, "+").
function center(s, w,   ex, l, r) {
  ex = w - length(s)
  if (ex % 2) { if (length(s) % 2) { l = int(ex/2); r = l + 1 } else { r = int(ex/2); l = r + 1 } }
  else { l = r = ex / 2 }
  return sprintf("%" l "s%s%" r "s", "", s, "")
}
function pycenter(s, w, f,   marg, l, out, i) {
  marg = w - length(s); if (marg <= 0) return s
  l = int(marg/2) + ((marg % 2) && (w % 2) ? 1 : 0)
  out = ""; for (i = 0; i < l; i++) out = out f; out = out s
  for (i = 0; i < marg - l; i++) out = out f
  return out
}
BEGIN { n = split("Device Up Address Mask Scope Hw-Address", h, " "); for (i = 1; i <= n; i++) wd[i] = length(h[i]); rows = 0 }
NF == 6 { rows++; for (i = 1; i <= 6; i++) { c[rows, i] = $i; if (length($i) > wd[i]) wd[i] = length($i) } }
END {
  sep = "+"; for (i = 1; i <= 6; i++) { s = ""; for (j = 0; j < wd[i] + 2; j++) s = s "-"; sep = sep s "+" }
  print "ci-info: " pycenter("Net device info", length(sep), "+")
  print "ci-info: " sep
  line = "|"; for (i = 1; i <= 6; i++) line = line " " center(h[i], wd[i]) " |"; print "ci-info: " line
  print "ci-info: " sep
  for (r = 1; r <= rows; r++) { line = "|"; for (i = 1; i <= 6; i++) line = line " " center(c[r, i], wd[i]) " |"; print "ci-info: " line }
  print "ci-info: " sep
}
