package steps

import (
	"fmt"
	"strings"
)

// lineDiff is a short unified-style diff of two texts for a step's reason
// (plan and -v output): which lines go, which come. It is a plain LCS,
// enough for configuration files. Common leading and trailing lines are
// cut first (a one-line edit of a long file costs nothing), and what is
// left is only compared when its table stays small: a file of a million
// lines (MaxRead allows it) gets a count, not a terabyte table.
func lineDiff(old, new string, limit int) string {
	a, b := splitLines(old), splitLines(new)
	for len(a) > 0 && len(b) > 0 && a[0] == b[0] {
		a, b = a[1:], b[1:]
	}
	for len(a) > 0 && len(b) > 0 && a[len(a)-1] == b[len(b)-1] {
		a, b = a[:len(a)-1], b[:len(b)-1]
	}
	n, m := len(a), len(b)
	if (n+1)*(m+1) > maxDiffCells {
		return fmt.Sprintf("… %d lines go, %d lines come (too many to show)", n, m)
	}
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			out = append(out, "+"+b[j])
			j++
		default:
			out = append(out, "-"+a[i])
			i++
		}
	}
	if len(out) > limit {
		out = append(out[:limit], fmt.Sprintf("… %d more changed lines", len(out)-limit))
	}
	return strings.Join(out, "\n")
}

// maxDiffCells bounds the LCS table (8 bytes a cell).
const maxDiffCells = 1 << 22

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
