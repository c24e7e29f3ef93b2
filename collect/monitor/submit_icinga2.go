package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// icinga2CheckResultBody is a process-check-result request for one
// service, found by filter with the names as filter variables (never
// spliced into the filter expression).
type icinga2CheckResultBody struct {
	Type            string            `json:"type"`
	Filter          string            `json:"filter"`
	FilterVars      map[string]string `json:"filter_vars"`
	ExitStatus      int               `json:"exit_status"`
	PluginOutput    string            `json:"plugin_output"`
	PerformanceData []string          `json:"performance_data,omitempty"`
	CheckSource     string            `json:"check_source"`
}

// Submit posts each result to /v1/actions/process-check-result.
func (s *icinga2) Submit(ctx context.Context, results []CheckResult) error {
	ctx, cancel := withDefaultTimeout(ctx, icinga2Timeout)
	defer cancel()
	errs := submitErrors{target: s.String()}
	for _, r := range results {
		if err := s.submit(ctx, r); err != nil {
			if ctx.Err() != nil {
				return err
			}
			errs.add(r, err)
		}
	}
	return errs.err(len(results))
}

// submit posts one result.
func (s *icinga2) submit(ctx context.Context, r CheckResult) error {
	out := r.Output
	if len(r.Long) > 0 {
		out += "\n" + strings.Join(r.Long, "\n")
	}
	body, err := json.Marshal(icinga2CheckResultBody{
		Type: "Service", Filter: "host.name==dotm_host && service.name==dotm_service",
		FilterVars: map[string]string{"dotm_host": r.Host, "dotm_service": r.Service},
		ExitStatus: r.State, PluginOutput: out, PerformanceData: r.Perf, CheckSource: "dotm",
	})
	if err != nil {
		return err
	}
	u := s.base
	u.Path += "/v1/actions/process-check-result"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %v", s, stripURL(err))
	}
	if s.auth.User != "" || s.auth.Password != "" {
		req.SetBasicAuth(s.auth.User, s.auth.Password)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return s.connError(err)
	}
	defer resp.Body.Close()
	answer, err := readAtMost(resp.Body, 1<<20)
	if err != nil {
		return fmt.Errorf("%s: read the answer: %w", s, err)
	}
	var res struct {
		Results *[]struct {
			Code   float64 `json:"code"`
			Status string  `json:"status"`
		} `json:"results"`
	}
	_ = json.Unmarshal(answer, &res)
	switch {
	case resp.StatusCode == http.StatusOK && res.Results != nil && len(*res.Results) == 1 && (*res.Results)[0].Code == 200:
		return nil
	case resp.StatusCode == http.StatusOK && res.Results != nil && len(*res.Results) == 1:
		return fmt.Errorf("%s: process-check-result for %s!%s refused: %s", s, r.Host, r.Service, (*res.Results)[0].Status)
	case resp.StatusCode == http.StatusNotFound || res.Results != nil && len(*res.Results) == 0:
		// Icinga 2.13 answers a filter that matches nothing with HTTP 500
		// and no results; the manual promises 404.
		return fmt.Errorf("%s: no service %q on host %q (HTTP %d: %s); define it with passive checks "+
			"(see dotm's README, \"Feeding your monitoring\")", s, r.Service, r.Host, resp.StatusCode, icinga2Status(answer))
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%s: the API user %q may not submit check results (HTTP 403: %s); grant it "+
			"permissions = [ \"actions/process-check-result\" ] in its ApiUser", s, s.auth.User, icinga2Status(answer))
	case resp.StatusCode == http.StatusUnauthorized:
		return s.statusError(resp.StatusCode, "", answer)
	}
	return fmt.Errorf("%s: process-check-result for %s!%s: HTTP %d: %s", s, r.Host, r.Service, resp.StatusCode, icinga2Status(answer))
}
