package domain

import (
	"net/url"
	"strings"
)

// RedactURL hides the password of one URL (user info and any *password
// query parameter); a path or a URL without a password is returned as it
// is, one that does not parse as "(unparsable URL)".
func RedactURL(raw string) string {
	if !strings.Contains(raw, "://") {
		return raw
	}
	return Redact(raw)
}

// Redact hides the passwords in a --redis value (user info and any
// *password query parameter), so it can appear in messages and logs.
func Redact(raw string) string {
	parts := strings.Split(raw, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil {
			parts[i] = "(unparsable URL)"
			continue
		}
		q := u.Query()
		for k := range q {
			if strings.Contains(strings.ToLower(k), "password") {
				q.Set(k, "xxxxx")
			}
		}
		if len(q) > 0 {
			u.RawQuery = q.Encode()
		}
		parts[i] = u.Redacted()
	}
	return strings.Join(parts, ",")
}
