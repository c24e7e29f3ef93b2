package netinfo

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

// testdata/nft-ruleset.json is `nft -j list ruleset` (nftables 1.0.6) of
// a network namespace loaded with native nft rules: see
// testdata/README.md.
func TestParseNftRuleset(t *testing.T) {
	f, err := os.Open("testdata/nft-ruleset.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fws, err := ParseNftRuleset(f)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, fw := range fws {
		got = append(got, fmt.Sprintf("%v %s %s %s", fw.UDP, fw.Listen, fw.Target, fw.Via))
	}
	want := []string{
		"false 0.0.0.0:8080 10.231.9.2:80 dnat",
		"false 192.0.2.10:8443 10.231.9.3:443 dnat",
		"true 0.0.0.0:5353 10.231.9.4:5353 dnat",
		// tcp dport 9000-9010: a range is left out
		"false 0.0.0.0:2222 10.231.9.6:22 dnat",
		"false 0.0.0.0:2223 10.231.9.6:22 dnat",
		"false 0.0.0.0:8080 [fd00::2]:80 dnat",
		// the filter table's accept rule is no forward
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("forwards\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseNftRulesetErrors(t *testing.T) {
	for _, in := range []string{"", "not json", `{"nftables": 5}`} {
		if _, err := ParseNftRuleset(strings.NewReader(in)); err == nil || !strings.HasPrefix(err.Error(), "nft -j list ruleset output: ") {
			t.Errorf("%q: err = %v", in, err)
		}
	}
	// Statements it does not read, odd values: no forward, no error.
	odd := `{"nftables": [{"rule": {"expr": [{"match": {"op": "!=", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 80}}, {"dnat": {"addr": "10.0.0.1"}}]}},
		{"rule": {"expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 80}}, {"dnat": {"addr": {"map": {}}}}]}},
		{"rule": {"expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 80}}, {"dnat": {"addr": "10.0.0.1", "port": 70000}}]}},
		{"rule": {"expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 80}}]}}]}`
	if fws, err := ParseNftRuleset(strings.NewReader(odd)); err != nil || len(fws) != 0 {
		t.Errorf("odd rules: %v, %v", fws, err)
	}
}

// FuzzParseNftRuleset: whatever nft printed, the parse ends with an error
// or forwards that each name one port and one target.
func FuzzParseNftRuleset(f *testing.F) {
	b, err := os.ReadFile("testdata/nft-ruleset.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"nftables": [{"rule": {"expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": {"set": [1, 2]}}}, {"dnat": {"addr": "::ffff:10.0.0.1"}}]}}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		fws, err := ParseNftRuleset(bytes.NewReader(in))
		if err != nil {
			if fws != nil || !strings.HasPrefix(err.Error(), "nft -j list ruleset output: ") {
				t.Fatalf("%v with error %v", fws, err)
			}
			return
		}
		for _, fw := range fws {
			if fw.Listen.Port() == 0 || fw.Target.Port() == 0 || !fw.Target.Addr().IsValid() ||
				fw.Target.Addr().Is4In6() || fw.Listen.Addr().Is4In6() || fw.Via != ViaDNAT {
				t.Fatalf("bad forward %+v", fw)
			}
		}
	})
}
