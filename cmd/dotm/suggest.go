package main

import "strings"

// suggestName returns the name among names that typed most likely meant, or
// "" when none is close: one that typed is a prefix of, else the nearest
// by edit distance, at most a third of its length away ("colect" →
// "collect", "rnder" → "render").
func suggestName(typed string, names []string) string {
	best, bestDist := "", len(typed)/3+1
	for _, n := range names {
		if typed != "" && strings.HasPrefix(n, typed) {
			return n
		}
		if d := levenshtein(typed, n); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// levenshtein is the number of single-byte insertions, deletions,
// substitutions and swaps of neighbours that turn a into b (the optimal
// string alignment distance: "nodse" is one from "nodes").
func levenshtein(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
