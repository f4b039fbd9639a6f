package cib

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ValueType says how the value of a cluster property or meta attribute is
// read.
type ValueType uint8

// The value types of properties and meta attributes.
const (
	ValueString    ValueType = iota // any text
	ValueBool                       // Pacemaker boolean: true/false, yes/no, on/off, y/n, 1/0
	ValueInt                        // any integer
	ValueCount                      // an integer ≥ 0
	ValueThreshold                  // an integer ≥ 0 or INFINITY
	ValueScore                      // a score: integer or ±INFINITY
	ValueDuration                   // a Duration (10s, 2min, PT5S, bare seconds)
	ValueEnum                       // one of Values
)

// String names the value type as messages show it.
func (t ValueType) String() string {
	switch t {
	case ValueBool:
		return "boolean"
	case ValueInt:
		return "integer"
	case ValueCount:
		return "non-negative integer"
	case ValueThreshold:
		return "non-negative integer or INFINITY"
	case ValueScore:
		return "score"
	case ValueDuration:
		return "duration"
	case ValueEnum:
		return "enumeration"
	}
	return "string"
}

// PropertyDef describes one cluster property.
type PropertyDef struct {
	Type ValueType
	// Values lists the accepted values of an enumeration.
	Values []string
	// Default is the value in force when the property is not set; empty
	// means "derived" (see Description).
	Default     string
	Description string
}

// PropertyDefs lists the cluster properties Paceline knows, after
// "Pacemaker Explained", Cluster Options, plus Paceline's own timing
// properties (node-loss-grace, self-stop-timeout, tiebreak-delay). It is a
// read-only table.
var PropertyDefs = map[string]PropertyDef{
	"no-quorum-policy": {Type: ValueEnum, Values: []string{"stop", "freeze", "ignore", "suicide", "demote"}, Default: "stop",
		Description: "what a partition without quorum does with its resources"},
	"stonith-enabled": {Type: ValueBool, Default: "false",
		Description: "fence unclean nodes before recovering their resources"},
	"stonith-action": {Type: ValueEnum, Values: []string{"reboot", "off"}, Default: "reboot",
		Description: "what fencing does to a node"},
	"stonith-timeout": {Type: ValueDuration, Default: "60s",
		Description: "how long a fencing action may take"},
	"concurrent-fencing": {Type: ValueBool, Default: "true",
		Description: "allow several fencing actions at once"},
	"priority-fencing-delay": {Type: ValueDuration, Default: "0",
		Description: "extra delay before fencing the node that runs the higher-priority resources"},
	"symmetric-cluster": {Type: ValueBool, Default: "true",
		Description: "resources may run on any node unless a constraint says otherwise"},
	"maintenance-mode": {Type: ValueBool, Default: "false",
		Description: "stop managing and monitoring every resource"},
	"stop-all-resources": {Type: ValueBool, Default: "false",
		Description: "stop every resource"},
	"start-failure-is-fatal": {Type: ValueBool, Default: "true",
		Description: "a failed start bans the resource from that node (fail count INFINITY)"},
	"enable-startup-probes": {Type: ValueBool, Default: "true",
		Description: "probe every node for running resources when it joins"},
	"cluster-recheck-interval": {Type: ValueDuration, Default: "15min",
		Description: "run the scheduler at least this often (time-based failure expiry)"},
	"placement-strategy": {Type: ValueEnum, Values: []string{"default", "utilization", "balanced", "minimal"}, Default: "default",
		Description: "how utilization affects placement"},
	"batch-limit": {Type: ValueCount, Default: "0",
		Description: "most actions run at once by a transition; 0 means no limit"},
	"migration-limit": {Type: ValueInt, Default: "-1",
		Description: "most live migrations at once per node; -1 means no limit"},
	"shutdown-lock": {Type: ValueBool, Default: "false",
		Description: "keep a cleanly stopped node's resources locked to it until it returns"},
	"shutdown-lock-limit": {Type: ValueDuration, Default: "0",
		Description: "release a shutdown lock after this long; 0 means never"},
	"node-loss-grace": {Type: ValueDuration,
		Description: "without fencing, wait this long after losing a node before recovering its resources; empty: derived from the timing profile"},
	"self-stop-timeout": {Type: ValueDuration,
		Description: "a node whose lease ran out stops all its resources within this time; empty: derived from the timing profile"},
	"two-node": {Type: ValueBool, Default: "false",
		Description: "a two-node cluster: the survivor of a split may keep quorum through the tiebreak (see docs/architecture.md)"},
	"wait-for-all": {Type: ValueBool, Default: "false",
		Description: "at cold start, no quorum until every node has been seen once (set it with two-node)"},
	"ping-targets": {Type: ValueString,
		Description: "the two-node tiebreak's ping targets, space-separated: an address (ICMP echo) or host:port (TCP connect)"},
	"tiebreak-delay": {Type: ValueDuration,
		Description: "in a two-node cluster, how long the tiebreak loser waits; empty: derived from the timing profile"},
	"cluster-name": {Type: ValueString,
		Description: "a name for the cluster, shown by status and available to rules as #cluster-name"},
}

// PropertyDefault returns the default of a known property, or "" for an
// unknown one or one whose default is derived.
func PropertyDefault(name string) string { return PropertyDefs[name].Default }

// Property returns the value of a cluster property: the configured value,
// else its default.
func (c *Config) Property(name string) string {
	if v, ok := c.Properties[name]; ok {
		return v
	}
	return PropertyDefault(name)
}

// ValidateProperty checks a cluster property's name and value.
func ValidateProperty(name, value string) error {
	if why := propertyProblem(name, value); why != "" {
		return fmt.Errorf("property %q: %s", name, why)
	}
	return nil
}

// propertyProblem says why a property is refused, or "".
func propertyProblem(name, value string) string {
	def, ok := PropertyDefs[name]
	if !ok {
		return "unknown property" + didYouMean(name, PropertyDefs)
	}
	return checkValue(def.Type, def.Values, nil, value)
}

// checkProperties checks the cluster properties and resource defaults of a
// configuration.
func (v *validator) checkProperties() {
	for _, name := range sortedKeys(v, v.c.Properties) {
		if why := propertyProblem(name, v.c.Properties[name]); why != "" {
			v.add("properties["+key(name)+"]", "%s", why)
		}
	}
	// DESIGN.md, Safety: a lost node must have stopped its resources before
	// they are recovered elsewhere.
	grace, err1 := ParseDuration(v.c.Properties["node-loss-grace"])
	stop, err2 := ParseDuration(v.c.Properties["self-stop-timeout"])
	if err1 == nil && err2 == nil && grace <= stop {
		v.add("properties[node-loss-grace]", "node-loss-grace (%s) must be longer than self-stop-timeout (%s)", grace, stop)
	}
	for _, name := range sortedKeys(v, v.c.ResourceDefaults) {
		if why := checkMeta("", false, name, v.c.ResourceDefaults[name]); why != "" {
			v.add("resource-defaults["+key(name)+"]", "%s", why)
		}
	}
}

// MetaScope says which resources accept a meta attribute.
type MetaScope uint8

// The resource kinds a meta attribute applies to.
const (
	ScopePrimitive  MetaScope = 1 << iota // primitives (and fence devices)
	ScopeGroup                            // groups
	ScopeClone                            // clones
	ScopePromotable                       // promotable clones only
	ScopeDefaults                         // resource-defaults

	scopeAll = ScopePrimitive | ScopeGroup | ScopeClone | ScopePromotable | ScopeDefaults
	// scopeClone is what every clone accepts, promotable or not.
	scopeClone = ScopeClone | ScopePromotable
)

// MetaDef describes one resource meta attribute.
type MetaDef struct {
	Type   ValueType
	Values []string
	// Legacy maps deprecated values to their current name (Master -> Promoted).
	Legacy      map[string]string
	Scope       MetaScope
	Default     string
	Description string
}

var legacyRoles = map[string]string{"Master": RolePromoted, "Slave": RoleUnpromoted}

// MetaDefs lists the resource meta attributes, after "Pacemaker Explained",
// Resource Meta-Attributes and Clone Options. It is a read-only table.
var MetaDefs = map[string]MetaDef{
	"target-role": {Type: ValueEnum, Values: []string{RoleStopped, RoleStarted, RoleUnpromoted, RolePromoted}, Legacy: legacyRoles,
		Scope: scopeAll, Default: RoleStarted, Description: "the state the cluster keeps the resource in"},
	"resource-stickiness": {Type: ValueScore, Scope: scopeAll, Default: "0",
		Description: "how much the resource prefers to stay where it runs"},
	"migration-threshold": {Type: ValueThreshold, Scope: scopeAll, Default: "INFINITY",
		Description: "ban the resource from a node after this many failures there"},
	"failure-timeout": {Type: ValueDuration, Scope: scopeAll, Default: "0",
		Description: "forget failures older than this; 0 means never"},
	"is-managed": {Type: ValueBool, Scope: scopeAll, Default: "true",
		Description: "the cluster may start and stop the resource"},
	"maintenance": {Type: ValueBool, Scope: scopeAll, Default: "false",
		Description: "neither manage nor monitor the resource"},
	"priority": {Type: ValueInt, Scope: scopeAll, Default: "0",
		Description: "when not everything can run, higher priorities are placed first"},
	"multiple-active": {Type: ValueEnum, Values: []string{"block", "stop_only", "stop_start", "stop_unexpected"}, Scope: scopeAll,
		Default: "stop_start", Description: "what to do when the resource is found active on several nodes"},
	"allow-migrate": {Type: ValueBool, Scope: scopeAll, Default: "false",
		Description: "move the resource by live migration (migrate_to/migrate_from)"},
	"requires": {Type: ValueEnum, Values: []string{"nothing", "quorum", "fencing", "unfencing"}, Scope: scopeAll,
		Default: "fencing", Description: "what must hold before the resource may start"},
	"critical": {Type: ValueBool, Scope: scopeAll, Default: "true",
		Description: "colocations with this resource may stop its dependents"},
	"description": {Type: ValueString, Scope: scopeAll, Description: "free text"},

	"clone-max": {Type: ValueCount, Scope: scopeClone, Description: "how many copies run; default: the number of nodes"},
	"clone-node-max": {Type: ValueCount, Scope: scopeClone, Default: "1",
		Description: "how many copies run on one node"},
	"clone-min": {Type: ValueCount, Scope: scopeClone, Default: "0",
		Description: "copies that must run before dependents of the clone may start"},
	"interleave": {Type: ValueBool, Scope: scopeClone, Default: "false",
		Description: "order against the copy on the same node only, not the whole clone"},
	"ordered": {Type: ValueBool, Scope: scopeClone, Default: "false",
		Description: "start copies one after another"},
	"notify": {Type: ValueBool, Scope: scopeClone, Default: "false",
		Description: "tell every copy before and after an action of any copy"},
	"globally-unique": {Type: ValueBool, Scope: scopeClone, Default: "false",
		Description: "copies differ from each other"},

	"promoted-max": {Type: ValueCount, Scope: ScopePromotable, Default: "1",
		Description: "how many copies may be promoted"},
	"promoted-node-max": {Type: ValueCount, Scope: ScopePromotable, Default: "1",
		Description: "how many copies may be promoted on one node"},
}

// legacyMeta names meta attributes Pacemaker renamed or moved, with the
// message that says what to use instead.
var legacyMeta = map[string]string{
	"master-max":      `"master-max" is deprecated; use "promoted-max"`,
	"master-node-max": `"master-node-max" is deprecated; use "promoted-node-max"`,
	"promotable":      `"promotable" is not a meta attribute here; set "promotable: true" on the clone`,
	"stickiness":      `"stickiness" is deprecated; use "resource-stickiness"`,
}

// ValidateMeta checks one meta attribute of a resource of the given kind; kind
// "" checks a resource-defaults entry. promotable says whether the resource
// is a promotable clone or sits inside one.
func ValidateMeta(kind ResourceKind, promotable bool, name, value string) error {
	if why := checkMeta(kind, promotable, name, value); why != "" {
		return fmt.Errorf("meta attribute %q: %s", name, why)
	}
	return nil
}

// checkMeta returns why a meta attribute is refused, or "".
func checkMeta(kind ResourceKind, promotable bool, name, value string) string {
	if msg, ok := legacyMeta[name]; ok {
		return msg
	}
	def, ok := MetaDefs[name]
	if !ok {
		return "unknown meta attribute" + didYouMean(name, MetaDefs)
	}
	var scope MetaScope
	switch kind {
	case KindPrimitive:
		scope = ScopePrimitive
	case KindGroup:
		scope = ScopeGroup
	case KindClone:
		scope = ScopeClone
		if promotable {
			scope = ScopePromotable
		}
	default:
		scope = ScopeDefaults
	}
	if def.Scope&scope == 0 {
		switch {
		case kind == KindClone:
			return "only a promotable clone accepts it"
		case def.Scope&scopeClone != 0:
			return fmt.Sprintf("it is a clone option, not accepted in %s: set it on the clone", scopeName(kind))
		}
		return fmt.Sprintf("not accepted in %s", scopeName(kind))
	}
	if why := checkValue(def.Type, def.Values, def.Legacy, value); why != "" {
		return why
	}
	if name == "target-role" && kind != "" && !promotable && canonicalRole(value) == RolePromoted {
		return "target-role Promoted needs a promotable clone (or a resource inside one)"
	}
	return ""
}

func scopeName(kind ResourceKind) string {
	if kind == "" {
		return "resource-defaults"
	}
	return "a " + string(kind)
}

func (v *validator) checkMetaMap(path string, kind ResourceKind, promotable bool, m map[string]string) {
	for _, k := range sortedKeys(v, m) {
		if why := checkMeta(kind, promotable, k, m[k]); why != "" {
			v.add(path+"["+key(k)+"]", "%s", why)
		}
	}
}

// checkValue returns why value is not a valid value of type t, or "".
func checkValue(t ValueType, values []string, legacy map[string]string, value string) string {
	switch t {
	case ValueBool:
		if _, err := ParseBool(value); err != nil {
			return fmt.Sprintf("%q is not a boolean (want true or false)", value)
		}
	case ValueInt, ValueCount:
		n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if err != nil {
			return fmt.Sprintf("%q is not an integer", value)
		}
		if t == ValueCount && n < 0 {
			return fmt.Sprintf("%q is negative", value)
		}
	case ValueThreshold:
		s, err := ParseScore(value)
		if err != nil {
			return fmt.Sprintf("%q is not an integer or INFINITY", value)
		}
		if s < 0 {
			return fmt.Sprintf("%q is negative", value)
		}
	case ValueScore:
		if _, err := ParseScore(value); err != nil {
			return fmt.Sprintf("%q is not a score (want an integer or [+-]INFINITY)", value)
		}
	case ValueDuration:
		if d, err := ParseDuration(value); err != nil || d < 0 {
			return fmt.Sprintf("%q is not a duration (want e.g. 10s, 500ms, 2min or PT5S)", value)
		}
	case ValueEnum:
		if slices.Contains(values, value) {
			return ""
		}
		for _, v := range values {
			if strings.EqualFold(v, value) {
				return ""
			}
		}
		for l := range legacy {
			if strings.EqualFold(l, value) {
				return ""
			}
		}
		return fmt.Sprintf("%q is not one of %s", value, strings.Join(values, ", "))
	default:
		return textProblem(value)
	}
	return ""
}

// ParseBool reads a Pacemaker boolean: true, yes, on, y, 1 or false, no,
// off, n, 0, in any case.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "y", "1":
		return true, nil
	case "false", "no", "off", "n", "0":
		return false, nil
	}
	return false, fmt.Errorf("bad boolean %q: want true or false", s)
}

// The roles of a resource instance ("Pacemaker Explained", Resource Roles).
const (
	RoleStopped    = "Stopped"
	RoleStarted    = "Started"
	RoleUnpromoted = "Unpromoted"
	RolePromoted   = "Promoted"
)

// canonicalRole returns the current name of a role given in any case or by
// its legacy name (Master, Slave), or "" if s is no role.
func canonicalRole(s string) string {
	for _, r := range []string{RoleStopped, RoleStarted, RoleUnpromoted, RolePromoted} {
		if strings.EqualFold(s, r) {
			return r
		}
	}
	for l, r := range legacyRoles {
		if strings.EqualFold(s, l) {
			return r
		}
	}
	return ""
}

// roleProblem returns the canonical name of role, and why it is refused:
// unknown, or needing a promotable resource when promotable is false.
func roleProblem(role string, promotable bool) (canonical, why string) {
	r := canonicalRole(role)
	switch {
	case r == "":
		return "", fmt.Sprintf("unknown role %q (want Started, Stopped, Promoted or Unpromoted)", role)
	case (r == RolePromoted || r == RoleUnpromoted) && !promotable:
		return r, fmt.Sprintf("role %s applies only to a promotable clone (or a resource inside one)", r)
	}
	return r, ""
}

// sortedKeys returns the keys of m in order, in a buffer the next call
// reuses.
func sortedKeys[V any](v *validator, m map[string]V) []string {
	v.keyBuf = v.keyBuf[:0]
	for k := range m {
		v.keyBuf = append(v.keyBuf, k)
	}
	slices.Sort(v.keyBuf)
	return v.keyBuf
}

// didYouMean suggests known names close to name, for messages.
func didYouMean[V any](name string, known map[string]V) string {
	var near []string
	for k := range known {
		if editDistance(name, k) <= 2 || (len(name) >= 4 && (strings.HasPrefix(k, name) || strings.HasPrefix(name, k))) {
			near = append(near, strconv.Quote(k))
		}
	}
	if len(near) == 0 {
		return ""
	}
	slices.Sort(near)
	if len(near) > 3 {
		near = near[:3]
	}
	return "; did you mean " + strings.Join(near, " or ") + "?"
}

// editDistance is the Levenshtein distance of a and b (bytes); long inputs
// count as far apart.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

const maxIDLen = 128

// idProblem says why id is not a valid CIB id (an XML ID: a letter or '_',
// then letters, digits, '.', '-', '_'), or "".
func idProblem(id string) string {
	if id == "" {
		return "an id is required"
	}
	if len(id) > maxIDLen {
		return fmt.Sprintf("id %q... is too long (%d bytes, at most %d)", id[:32], len(id), maxIDLen)
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		letter := 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || ch == '_'
		if i == 0 && !letter {
			return fmt.Sprintf("id %q must start with a letter or '_'", id)
		}
		if !letter && !('0' <= ch && ch <= '9') && ch != '.' && ch != '-' {
			return fmt.Sprintf("id %q has a bad character %q (want letters, digits, '.', '-', '_')", id, string(rune(ch)))
		}
	}
	return ""
}

// nodeNameProblem says why name is not a valid host name (RFC 1123), or "".
func nodeNameProblem(name string) string {
	if name == "" {
		return "a node name is required"
	}
	bad := fmt.Sprintf("node name %q is not a valid host name (dot-separated labels of letters, digits and '-', at most 63 bytes each)", name)
	if len(name) > 253 {
		return bad
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return bad
		}
		for i := 0; i < len(label); i++ {
			ch := label[i]
			if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || ch == '-') {
				return bad
			}
		}
	}
	return ""
}

// attrNameProblem says why s is not a valid attribute name (node attribute,
// utilization, score-attribute), or "".
func attrNameProblem(s string) string {
	if s == "" {
		return "an attribute name is required"
	}
	if len(s) > maxIDLen {
		return fmt.Sprintf("attribute name %q... is too long", s[:32])
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || strings.IndexByte("._-:", ch) >= 0) {
			return fmt.Sprintf("attribute name %q has a bad character %q (want letters, digits, '.', '-', '_', ':')", s, string(rune(ch)))
		}
	}
	return ""
}

// textProblem says why a free-text value is refused, or "".
func textProblem(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "value contains a NUL byte"
	}
	if !utf8.ValidString(s) {
		return "value is not valid UTF-8"
	}
	return ""
}
