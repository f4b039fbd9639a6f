package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/cib"
)

// words splits a command line on spaces (no quoting needed in these cases).
func words(s string) []string { return strings.Fields(s) }

func dur(s string) cib.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return cib.Duration(d)
}

// argCase is one command line and either the commands it must give (as
// JSON, compared structurally) or a fragment of the error it must give.
type argCase struct {
	name string
	args string
	want any    // the expected value (compared as JSON)
	err  string // a fragment of the expected error; "" for success
}

func checkCase(t *testing.T, c argCase, got any, err error) {
	t.Helper()
	if c.err != "" {
		if err == nil {
			t.Fatalf("%q: no error, want one containing %q; got %s", c.args, c.err, asJSON(got))
		}
		if !strings.Contains(err.Error(), c.err) {
			t.Fatalf("%q: error %q, want it to contain %q", c.args, err, c.err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%q: %v", c.args, err)
	}
	if g, w := asJSON(got), asJSON(c.want); g != w {
		t.Fatalf("%q:\n got %s\nwant %s", c.args, g, w)
	}
}

func asJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

func TestParseCreate(t *testing.T) {
	type pair struct {
		P *cib.CreatePrimitive
		C *cib.CreateClone
	}
	cases := []struct {
		argCase
		opts createOpts
	}{
		{argCase: argCase{name: "issue example",
			args: "web-ip ocf:paceline:vip ip=192.0.2.100 cidr_netmask=24 op monitor interval=5s",
			want: pair{P: &cib.CreatePrimitive{
				Primitive: cib.Primitive{ID: "web-ip", Agent: "ocf:paceline:vip",
					Params: map[string]string{"ip": "192.0.2.100", "cidr_netmask": "24"},
					Ops:    []cib.Op{{Name: "monitor", Interval: dur("5s")}}},
				Placement: cib.Placement{Group: "web"}}}},
			opts: createOpts{Group: "web"}},
		{argCase: argCase{name: "all sections, several ops after one op",
			args: "db lsb:postgresql meta resource-stickiness=100 op monitor interval=10 timeout=20s on-fail=restart start timeout=1min utilization cpu=2",
			want: pair{P: &cib.CreatePrimitive{Primitive: cib.Primitive{ID: "db", Agent: "lsb:postgresql",
				Meta: map[string]string{"resource-stickiness": "100"},
				Ops: []cib.Op{{Name: "monitor", Interval: dur("10s"), Timeout: dur("20s"), OnFail: "restart"},
					{Name: "start", Timeout: dur("1m")}},
				Utilization: map[string]int64{"cpu": 2}}}}}},
		{argCase: argCase{name: "disabled promotable",
			args: "redis ocf:paceline:redis op monitor role=master interval=5s",
			want: pair{
				P: &cib.CreatePrimitive{Primitive: cib.Primitive{ID: "redis", Agent: "ocf:paceline:redis",
					Meta: map[string]string{"target-role": "Stopped"},
					Ops:  []cib.Op{{Name: "monitor", Role: "Promoted", Interval: dur("5s")}}}},
				C: &cib.CreateClone{Rsc: "redis", Promotable: true}}},
			opts: createOpts{Promotable: true, Disabled: true}},
		{argCase: argCase{name: "group with after",
			args: "b ocf:heartbeat:Dummy",
			want: pair{P: &cib.CreatePrimitive{Primitive: cib.Primitive{ID: "b", Agent: "ocf:heartbeat:Dummy"},
				Placement: cib.Placement{Group: "g", After: "a"}}}},
			opts: createOpts{Group: "g", After: "a"}},
		{argCase: argCase{name: "bare agent", args: "x vip", err: `agent "vip": give its class and provider, e.g. ocf:paceline:vip`}},
		{argCase: argCase{name: "bare unknown agent", args: "x Dummy", err: "ocf:heartbeat:Dummy"}},
		{argCase: argCase{name: "bad class", args: "x foo:bar", err: "unknown class foo"}},
		{argCase: argCase{name: "missing agent", args: "x", err: "want ID AGENT"}},
		{argCase: argCase{name: "empty id", args: "= ocf:heartbeat:Dummy", err: `bad resource id "="`}},
		{argCase: argCase{name: "id starting with digit", args: "1x ocf:heartbeat:Dummy", err: "must start with a letter"}},
		{argCase: argCase{name: "key without =", args: "x ocf:heartbeat:Dummy state", err: `expected key=value or one of meta, op, utilization, got "state"`}},
		{argCase: argCase{name: "empty key", args: "x ocf:heartbeat:Dummy =v", err: `"=v" has no name`}},
		{argCase: argCase{name: "duplicate key", args: "x ocf:heartbeat:Dummy a=1 a=2", err: `"a" is given twice`}},
		{argCase: argCase{name: "empty value on create", args: "x ocf:heartbeat:Dummy a=", err: `"a" has an empty value`}},
		{argCase: argCase{name: "unknown op key", args: "x ocf:heartbeat:Dummy op monitor interval=5s depth=2", err: `op monitor: unknown option "depth"`}},
		{argCase: argCase{name: "bad interval", args: "x ocf:heartbeat:Dummy op monitor interval=fast", err: `bad duration "fast"`}},
		{argCase: argCase{name: "op without name", args: "x ocf:heartbeat:Dummy op interval=5s", err: `op: expected an operation name`}},
		{argCase: argCase{name: "unknown op name", args: "x ocf:heartbeat:Dummy op monitr interval=5s", err: `unknown operation "monitr"`}},
		{argCase: argCase{name: "pcs clone word", args: "x ocf:heartbeat:Dummy op monitor interval=5s clone", err: `unknown operation "clone": want one of start, stop, monitor`}},
		{argCase: argCase{name: "pcs clone word in params", args: "x ocf:heartbeat:Dummy clone", err: "(use --clone)"}},
		{argCase: argCase{name: "op at the end", args: "x ocf:heartbeat:Dummy op", err: "got nothing"}},
		{argCase: argCase{name: "bad on-fail", args: "x ocf:heartbeat:Dummy op monitor on-fail=explode", err: `bad on-fail "explode"`}},
		{argCase: argCase{name: "bad check level", args: "x ocf:heartbeat:Dummy op monitor OCF_CHECK_LEVEL=deep", err: `OCF_CHECK_LEVEL "deep": want a depth`}},
		{argCase: argCase{name: "unknown op role", args: "x ocf:heartbeat:Dummy op monitor role=Leader", err: `unknown role "Leader"`}},
		{argCase: argCase{name: "utilization not integer", args: "x ocf:heartbeat:Dummy utilization cpu=lots", err: "cpu=lots: want an integer"}},
		{argCase: argCase{name: "before without group", args: "x ocf:heartbeat:Dummy", err: "--before and --after need --group"}, opts: createOpts{Before: "y"}},
		{argCase: argCase{name: "before and after", args: "x ocf:heartbeat:Dummy", err: "not both"}, opts: createOpts{Group: "g", Before: "a", After: "b"}},
		{argCase: argCase{name: "group and clone", args: "x ocf:heartbeat:Dummy", err: "cannot be cloned"}, opts: createOpts{Group: "g", Clone: true}},
		{argCase: argCase{name: "clone and promotable", args: "x ocf:heartbeat:Dummy", err: "--clone or --promotable"}, opts: createOpts{Clone: true, Promotable: true}},
		{argCase: argCase{name: "disabled conflicts", args: "x ocf:heartbeat:Dummy meta target-role=Started", err: "--disabled conflicts"}, opts: createOpts{Disabled: true}},
		{argCase: argCase{name: "bad group id", args: "x ocf:heartbeat:Dummy", err: `bad group id "g/1"`}, opts: createOpts{Group: "g/1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, cl, err := parseCreate(words(c.args), c.opts)
			checkCase(t, c.argCase, pair{p, cl}, err)
		})
	}
}

func TestParseUpdate(t *testing.T) {
	cases := []argCase{
		{name: "set and unset", args: "web-ip ip=192.0.2.7 cidr_netmask= meta target-role= priority=5 op monitor interval=10s utilization cpu= mem=512",
			want: &cib.UpdateResource{ID: "web-ip",
				Params:      cib.Patch{Set: map[string]string{"ip": "192.0.2.7"}, Unset: []string{"cidr_netmask"}},
				Meta:        cib.Patch{Set: map[string]string{"priority": "5"}, Unset: []string{"target-role"}},
				Utilization: cib.Patch{Set: map[string]string{"mem": "512"}, Unset: []string{"cpu"}},
				SetOps:      []cib.Op{{Name: "monitor", Interval: dur("10s")}}}},
		{name: "nothing to update", args: "web-ip", err: "nothing to update"},
		{name: "no id", args: "", err: "give the resource id"},
		{name: "op empty value", args: "web-ip op monitor interval=", err: `"interval" has an empty value`},
		{name: "utilization not integer", args: "web-ip utilization mem=1G", err: "mem=1G: want an integer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, err := parseUpdate(words(c.args))
			checkCase(t, c, u, err)
		})
	}
}

func TestParseSmallResourceCommands(t *testing.T) {
	cases := []struct {
		argCase
		parse func([]string) (any, error)
	}{
		{argCase{name: "meta", args: "web target-role=Stopped is-managed=",
			want: &cib.UpdateResource{ID: "web", Meta: cib.Patch{Set: map[string]string{"target-role": "Stopped"}, Unset: []string{"is-managed"}}}},
			func(w []string) (any, error) { return parseMeta(w) }},
		{argCase{name: "meta without pairs", args: "web", err: "want ID key=value"},
			func(w []string) (any, error) { return parseMeta(w) }},
		{argCase{name: "op remove", args: "web monitor", want: &cib.UpdateResource{ID: "web", RemoveOps: []string{"monitor"}}},
			func(w []string) (any, error) { return parseOpRemove(w) }},
		{argCase{name: "op remove extra word", args: "web monitor start", err: "want ID NAME"},
			func(w []string) (any, error) { return parseOpRemove(w) }},
		{argCase{name: "group add", args: "web a b", want: &cib.GroupAdd{Group: "web", Members: []string{"a", "b"}}},
			func(w []string) (any, error) { return parseGroupAdd(w, "", "") }},
		{argCase{name: "group add before", args: "web c", want: &cib.GroupAdd{Group: "web", Members: []string{"c"}, Before: "a"}},
			func(w []string) (any, error) { return parseGroupAdd(w, "a", "") }},
		{argCase{name: "group add next to itself", args: "web c", err: `"c" is being added`},
			func(w []string) (any, error) { return parseGroupAdd(w, "c", "") }},
		{argCase{name: "group add twice", args: "web a a", err: `resource "a" is given twice`},
			func(w []string) (any, error) { return parseGroupAdd(w, "", "") }},
		{argCase{name: "group add no members", args: "web", err: "want GROUP RESOURCE"},
			func(w []string) (any, error) { return parseGroupAdd(w, "", "") }},
		{argCase{name: "group remove", args: "web a", want: &cib.GroupRemove{Group: "web", Members: []string{"a"}}},
			func(w []string) (any, error) { return parseGroupRemove(w) }},
		{argCase{name: "clone with meta", args: "ping meta clone-max=2 interleave=true",
			want: &cib.CreateClone{Rsc: "ping", Meta: map[string]string{"clone-max": "2", "interleave": "true"}}},
			func(w []string) (any, error) { return parseClone(w, "", false) }},
		{argCase{name: "clone with positional id", args: "ping pings clone-max=2",
			want: &cib.CreateClone{ID: "pings", Rsc: "ping", Meta: map[string]string{"clone-max": "2"}}},
			func(w []string) (any, error) { return parseClone(w, "", false) }},
		{argCase{name: "clone with two ids", args: "ping pings", err: "not both"},
			func(w []string) (any, error) { return parseClone(w, "other", false) }},
		{argCase{name: "clone promotable=true", args: "redis promotable=true",
			want: &cib.CreateClone{Rsc: "redis", Promotable: true}},
			func(w []string) (any, error) { return parseClone(w, "", false) }},
		{argCase{name: "promotable", args: "redis promoted-max=1",
			want: &cib.CreateClone{ID: "rc", Rsc: "redis", Promotable: true, Meta: map[string]string{"promoted-max": "1"}}},
			func(w []string) (any, error) { return parseClone(w, "rc", true) }},
		{argCase{name: "promotable=false contradicts", args: "redis promotable=false", err: "contradicts"},
			func(w []string) (any, error) { return parseClone(w, "", true) }},
		{argCase{name: "clone nothing", args: "", err: "give the resource to clone"},
			func(w []string) (any, error) { return parseClone(w, "", false) }},
		{argCase{name: "op add", args: "web monitor interval=20s role=Promoted",
			want: &cib.UpdateResource{ID: "web", AddOps: []cib.Op{{Name: "monitor", Interval: dur("20s"), Role: "Promoted"}}}},
			func(w []string) (any, error) { return parseOpAdd(w) }},
		{argCase{name: "op add without name", args: "web", err: "want ID NAME"},
			func(w []string) (any, error) { return parseOpAdd(w) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.parse(words(c.args))
			checkCase(t, c.argCase, got, err)
		})
	}
}

func TestParseLocation(t *testing.T) {
	cases := []argCase{
		{name: "add", args: "loc1 web n1 100", want: &cib.Location{ID: "loc1", Rsc: "web", Node: "n1", Score: 100}},
		{name: "add negative infinity with role", args: "loc1 web n1 -INFINITY role=promoted",
			want: &cib.Location{ID: "loc1", Rsc: "web", Node: "n1", Score: -cib.Infinity, Role: "Promoted"}},
		{name: "add rule", args: "loc-ping web rule score=-INFINITY not_defined pingd or pingd lt 1",
			want: &cib.Location{ID: "loc-ping", Rsc: "web", Score: -cib.Infinity, Rule: "not_defined pingd or pingd lt 1"}},
		{name: "add rule score-attribute", args: "loc-ping web rule score-attribute=pingd defined pingd",
			want: &cib.Location{ID: "loc-ping", Rsc: "web", ScoreAttribute: "pingd", Rule: "defined pingd"}},
		{name: "rule default score and role", args: "l web rule role=Unpromoted #uname eq n1",
			want: &cib.Location{ID: "l", Rsc: "web", Score: cib.Infinity, Role: "Unpromoted", Rule: "#uname eq n1"}},
		{name: "bad rule", args: "l web rule pingd frob 1", err: `bad rule`},
		{name: "rule without expression", args: "l web rule score=5", err: "the rule has no expression"},
		{name: "rule score and attribute", args: "l web rule score=5 score-attribute=pingd defined pingd", err: "score or score-attribute, not both"},
		{name: "score abc", args: "loc1 web n1 abc", err: `bad score "abc"`},
		{name: "score missing", args: "loc1 web n1", err: "want ID RESOURCE NODE SCORE"},
		{name: "unknown role", args: "loc1 web n1 10 role=Leader", err: `unknown role "Leader"`},
		{name: "unknown option", args: "loc1 web n1 10 resource-discovery=never", err: `unknown option "resource-discovery"`},
		{name: "empty id", args: "= web n1 10", err: `bad constraint id "="`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := parseLocationAdd(words(c.args))
			checkCase(t, c, l, err)
		})
	}
}

func TestParseLocationShort(t *testing.T) {
	taken := func(id string) bool { return id == "location-web-n1-INFINITY" }
	cases := []argCase{
		{name: "prefers", args: "web prefers n1 n2=50",
			want: []cib.Location{
				{ID: "location-web-n1-INFINITY-1", Rsc: "web", Node: "n1", Score: cib.Infinity},
				{ID: "location-web-n2-50", Rsc: "web", Node: "n2", Score: 50}}},
		{name: "avoids", args: "web avoids n3 n4=20",
			want: []cib.Location{
				{ID: "location-web-n3--INFINITY", Rsc: "web", Node: "n3", Score: -cib.Infinity},
				{ID: "location-web-n4--20", Rsc: "web", Node: "n4", Score: -20}}},
		{name: "rule", args: "web rule score=-INFINITY not_defined pingd",
			want: []cib.Location{{ID: "location-web", Rsc: "web", Score: -cib.Infinity, Rule: "not_defined pingd"}}},
		{name: "avoids negative", args: "web avoids n1=-5", err: "give a positive score"},
		{name: "bad verb", args: "web likes n1", err: `expected prefers, avoids or rule, got "likes"`},
		{name: "no nodes", args: "web prefers", err: "give at least one node"},
		{name: "node twice", args: "web prefers n1 n1=5", err: `node "n1" is given twice`},
		{name: "bad score", args: "web prefers n1=lots", err: `bad score "lots"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ls, err := parseLocationShort(words(c.args), taken)
			checkCase(t, c, ls, err)
		})
	}
}

func TestParseColocation(t *testing.T) {
	taken := func(id string) bool { return id == "colocation-web-db-INFINITY" }
	cases := []argCase{
		{name: "plain", args: "web with db", want: &cib.Colocation{ID: "colocation-web-db-INFINITY-1", Rsc: "web", WithRsc: "db", Score: cib.Infinity}},
		{name: "roles and score", args: "Started web with promoted db 500",
			want: &cib.Colocation{ID: "colocation-web-db-500", Rsc: "web", WithRsc: "db", Score: 500, RscRole: "Started", WithRscRole: "Promoted"}},
		{name: "negative and id", args: "web with db -INFINITY id=apart",
			want: &cib.Colocation{ID: "apart", Rsc: "web", WithRsc: "db", Score: -cib.Infinity}},
		{name: "score option", args: "web with db score=-10",
			want: &cib.Colocation{ID: "colocation-web-db--10", Rsc: "web", WithRsc: "db", Score: -10}},
		{name: "resource named like a role", args: "Promoted with db",
			want: &cib.Colocation{ID: "colocation-Promoted-db-INFINITY", Rsc: "Promoted", WithRsc: "db", Score: cib.Infinity}},
		{name: "missing with", args: "web db", err: `missing "with" after the resource, got "db"`},
		{name: "nothing after with", args: "web with", err: "give the resource to colocate with"},
		{name: "unknown role", args: "Leader web with db", err: `missing "with"`},
		{name: "score abc", args: "web with db abc", err: `bad score "abc"`},
		{name: "score twice", args: "web with db 5 score=6", err: "the score is given twice"},
		{name: "self", args: "web with web", err: "cannot be colocated with itself"},
		{name: "empty id", args: "web with db id=", err: `"id" has an empty value`},
		{name: "bad id", args: "web with db id=9x", err: `bad constraint id "9x"`},
		{name: "empty", args: "", err: "want [ROLE] RESOURCE with"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseColocationAdd(words(c.args), taken)
			checkCase(t, c, got, err)
		})
	}
}

func TestParseOrder(t *testing.T) {
	cases := []argCase{
		{name: "plain", args: "db then web",
			want: &cib.Order{ID: "order-db-web-mandatory", First: "db", FirstAction: "start", Then: "web", ThenAction: "start", Kind: "mandatory", Symmetrical: true}},
		{name: "actions and options", args: "promote db then start web kind=Optional symmetrical=false id=o1",
			want: &cib.Order{ID: "o1", First: "db", FirstAction: "promote", Then: "web", ThenAction: "start", Kind: "optional"}},
		{name: "serialize is not symmetrical", args: "a then b kind=serialize",
			want: &cib.Order{ID: "order-a-b-serialize", First: "a", FirstAction: "start", Then: "b", ThenAction: "start", Kind: "serialize"}},
		{name: "then missing", args: "db web", err: `missing "then" after the first resource, got "web"`},
		{name: "nothing after then", args: "db then", err: "give the resource to order after db"},
		{name: "bad kind", args: "db then web kind=sometimes", err: `bad kind "sometimes"`},
		{name: "bad symmetrical", args: "db then web symmetrical=maybe", err: `bad symmetrical "maybe"`},
		{name: "unknown option", args: "db then web score=5", err: `unknown option "score"`},
		{name: "self", args: "db then db", err: "cannot be ordered after itself"},
		{name: "bare word after", args: "db then web now", err: `expected key=value, got "now"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseOrderAdd(words(c.args), nil)
			checkCase(t, c, got, err)
		})
	}
}

func TestParsePropertyAndNode(t *testing.T) {
	cases := []struct {
		argCase
		parse func([]string) (any, error)
	}{
		{argCase{name: "property patch", args: "no-quorum-policy=freeze stonith-enabled=",
			want: cib.Patch{Set: map[string]string{"no-quorum-policy": "freeze"}, Unset: []string{"stonith-enabled"}}},
			func(w []string) (any, error) { return parsePatch("property set", w) }},
		{argCase{name: "property set without =", args: "no-quorum-policy", err: `expected key=value, got "no-quorum-policy"`},
			func(w []string) (any, error) { return parsePatch("property set", w) }},
		{argCase{name: "property unset", args: "a b a", want: []string{"a", "b"}},
			func(w []string) (any, error) { return parseKeys("property unset", w) }},
		{argCase{name: "property unset with =", args: "a=1", err: `expected a name, got "a=1"`},
			func(w []string) (any, error) { return parseKeys("property unset", w) }},
		{argCase{name: "property unset nothing", args: "", err: "give at least one name"},
			func(w []string) (any, error) { return parseKeys("property unset", w) }},
		{argCase{name: "node attribute", args: "n1 rack=r1 old=",
			want: &cib.UpdateNode{Name: "n1", Attributes: cib.Patch{Set: map[string]string{"rack": "r1"}, Unset: []string{"old"}}}},
			func(w []string) (any, error) { return parseNodePatch("attribute", w, false) }},
		{argCase{name: "node utilization", args: "n1 cpu=8 mem=",
			want: &cib.UpdateNode{Name: "n1", Utilization: cib.Patch{Set: map[string]string{"cpu": "8"}, Unset: []string{"mem"}}}},
			func(w []string) (any, error) { return parseNodePatch("utilization", w, true) }},
		{argCase{name: "node utilization not integer", args: "n1 cpu=eight", err: "cpu=eight: want an integer"},
			func(w []string) (any, error) { return parseNodePatch("utilization", w, true) }},
		{argCase{name: "node attribute without node", args: "rack=r1 x=1", err: `expected a node name first, got "rack=r1"`},
			func(w []string) (any, error) { return parseNodePatch("attribute", w, false) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.parse(words(c.args))
			checkCase(t, c.argCase, got, err)
		})
	}
}

func TestIDs(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{"location-web-n1-INFINITY", "location-web-n1-INFINITY"},
		{"location-web-n1.example.com--INFINITY", "location-web-n1.example.com--INFINITY"},
		{"location-web-fe80::1-5", "location-web-fe80--1-5"},
		{"9lives", "_9lives"},
	} {
		if got := sanitizeID(c.in); got != c.want {
			t.Errorf("sanitizeID(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	taken := map[string]bool{"a": true, "a-1": true}
	if got := uniqueID("a", func(s string) bool { return taken[s] }); got != "a-2" {
		t.Errorf("uniqueID: %q, want a-2", got)
	}
	for _, bad := range []string{"", "-a", "a b", "a/b", "a=b", "é"} {
		if validID("resource", bad) == nil {
			t.Errorf("validID(%q): no error", bad)
		}
	}
}

func TestNegativeWordsAreArguments(t *testing.T) {
	for _, w := range []string{"-INFINITY", "-inf", "-100", "-Infinity"} {
		if !negativeWord.MatchString(w) {
			t.Errorf("%q is taken for a flag", w)
		}
	}
	for _, w := range []string{"--group", "-o", "-x1"} {
		if negativeWord.MatchString(w) {
			t.Errorf("%q is taken for a word", w)
		}
	}
}

func TestDiffConfigs(t *testing.T) {
	cur := &cib.Config{
		Primitives: []cib.Primitive{{ID: "a", Agent: "ocf:heartbeat:Dummy"}, {ID: "b", Agent: "ocf:heartbeat:Dummy"}},
		Properties: map[string]string{"x": "1"},
	}
	next := &cib.Config{
		Primitives:  []cib.Primitive{{ID: "a", Agent: "ocf:heartbeat:Dummy", Meta: map[string]string{"k": "v"}}, {ID: "c", Agent: "ocf:heartbeat:Dummy"}},
		Properties:  map[string]string{"x": "1"},
		Constraints: cib.Constraints{Order: []cib.Order{{ID: "o"}}},
	}
	got := diffConfigs(cur, next)
	want := []changeCount{{What: "primitives", Added: 1, Removed: 1, Changed: 1}, {What: "order constraints", Added: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("diffConfigs = %+v, want %+v", got, want)
	}
	if d := diffConfigs(cur, cur); len(d) != 0 {
		t.Fatalf("diff of equal configs: %+v", d)
	}
	// A file without nodes keeps the registered ones: no "removed".
	withNode := cur.Clone()
	withNode.Nodes = []cib.Node{{Name: "n1"}}
	if d := diffConfigs(withNode, cur); len(d) != 0 {
		t.Fatalf("an import without nodes reports %+v; the registered nodes are kept", d)
	}
}

func TestConfigFormat(t *testing.T) {
	for _, c := range []struct{ data, name, want string }{
		{"{}", "x.yaml", "yaml"},
		{"a: 1", "x.json", "json"},
		{"  {\"epoch\": 1}", "cfg", "json"},
		{"primitives: []", "-", "yaml"},
	} {
		if got := configFormat([]byte(c.data), c.name); got != c.want {
			t.Errorf("configFormat(%q, %q) = %s, want %s", c.data, c.name, got, c.want)
		}
	}
}
