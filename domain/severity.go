package domain

// Severity ranks monitoring states from harmless (OK, UP, unknown words)
// to worst, so a service can keep the worst state of its checks:
// OK < PENDING < WARNING < UNKNOWN, UNREACHABLE < CRITICAL, DOWN.
func Severity(state string) int {
	switch state {
	case "PENDING":
		return 1
	case "WARNING":
		return 2
	case "UNKNOWN", "UNREACHABLE":
		return 3
	case "CRITICAL", "DOWN":
		return 4
	}
	return 0
}

// WorstOf is the worse of two states; "" stands for nothing known and
// loses to any state.
func WorstOf(a, b string) string {
	if b == "" || (a != "" && Severity(a) >= Severity(b)) {
		return a
	}
	return b
}
