package pacemaker

// The status importer: a Pacemaker CIB's <status> section (what
// `cibadmin -Q` returns, and what crm_simulate reads) becomes the
// scheduler's Status, following the rules of Pacemaker 2.1.5's
// lib/pengine/unpack.c: node_state → online, offline or unclean;
// transient_attributes → node attributes and fail counts; each node's
// lrm_resource history, replayed in call-id order → per primitive its role,
// failure and hard errors. The configuration comes from Import (or any
// *cib.Config); this file reads only the status. It is pure: the time
// failure-timeout is judged at is passed in or taken from the CIB.

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm/scheduler"
)

// StatusOptions say how ImportStatus judges time.
type StatusOptions struct {
	// Now, when set, is the time failure-timeout is judged at (as
	// crm_simulate --date): it wins over the CIB's execution-date.
	Now time.Time
	// Fallback is the time used when Now is zero and the CIB carries no
	// execution-date; crm_simulate then uses the current time, so a
	// command line passes time.Now() here. Zero means that no failure
	// expires.
	Fallback time.Time
}

// StatusReport says what ImportStatus made of the status beyond the
// Status itself: the time it judged failure-timeout at, the orphans it
// could not hand to the scheduler, and every approximation it made.
type StatusReport struct {
	// Now is the time failure-timeout was judged at (zero: never), and
	// NowSource where it came from: "option", "execution-date",
	// "fallback" or "none".
	Now       time.Time `json:"now,omitzero"`
	NowSource string    `json:"now-source"`
	// ExecutionDate is the CIB's execution-date, if it has one.
	ExecutionDate time.Time `json:"execution-date,omitzero"`
	// Orphans are resources with history that the configuration does not
	// have. Pacemaker stops an active one (stop-orphan-resources); the
	// scheduler only knows configured resources, so they are left out of
	// the Status and listed here.
	Orphans []Orphan `json:"orphans,omitempty"`
	// FenceDevices are the stonith resources found active, per node: the
	// scheduler does not place fence devices, so they are left out too.
	FenceDevices []Orphan `json:"fence-devices,omitempty"`
	// Notes lists, one line each, what was read differently from
	// Pacemaker or dropped: node_state entries of unknown nodes, pending
	// nodes taken as standby, hard errors without a fail count, ...
	Notes []string `json:"notes,omitempty"`
}

// Orphan is a resource found in a node's history but not placed by the
// scheduler.
type Orphan struct {
	// Rsc is the lrm_resource id as the history names it (db:1).
	Rsc  string `json:"rsc"`
	Node string `json:"node"`
	// Role is what the history says: Stopped, Started, Unpromoted,
	// Promoted.
	Role string `json:"role"`
}

// ImportStatus reads the <status> section (and have-quorum,
// execution-date) of a CIB for the configuration cfg, which must be the
// same CIB's configuration as Import gives it. Every configured node is
// listed in the result; one without a node_state is unclean
// (startup-fencing, the default) or offline. Errors name the element and
// its id; a CIB without a status section is not an error (nothing runs,
// every node is unclean or offline as above).
func ImportStatus(cibXML []byte, cfg *cib.Config, opt StatusOptions) (*scheduler.Status, *StatusReport, error) {
	if cfg == nil {
		return nil, nil, errors.New("status: no configuration")
	}
	doc, err := statusDecode(cibXML)
	if err != nil {
		return nil, nil, err
	}
	r := &statusReader{cfg: cfg, doc: doc, rep: &StatusReport{}}
	if err := r.setNow(opt); err != nil {
		return nil, nil, err
	}
	r.indexConfig()
	st, err := r.read()
	if err != nil {
		return nil, nil, err
	}
	return st, r.rep, nil
}

// The XML of the status section. Unknown elements and attributes are
// ignored, as Pacemaker ignores them.
type (
	stCIB struct {
		XMLName       xml.Name        `xml:"cib"`
		HaveQuorum    string          `xml:"have-quorum,attr"`
		ExecutionDate string          `xml:"execution-date,attr"`
		FeatureSet    string          `xml:"crm_feature_set,attr"`
		Status        *stStatusSecton `xml:"status"`
		// CRMConfig is read for the options that say how to read the
		// status (startup-fencing, stop-orphan-resources), which the
		// configuration importer may leave out.
		CRMConfig []stAttrBlock `xml:"configuration>crm_config>cluster_property_set"`
	}
	stStatusSecton struct {
		Nodes []stNodeState `xml:"node_state"`
	}
	stNodeState struct {
		ID        string     `xml:"id,attr"`
		Uname     string     `xml:"uname,attr"`
		InCCM     *string    `xml:"in_ccm,attr"`
		Crmd      string     `xml:"crmd,attr"`
		Join      string     `xml:"join,attr"`
		Expected  string     `xml:"expected,attr"`
		Transient []stNVSets `xml:"transient_attributes"`
		LRM       []stLRM    `xml:"lrm"`
	}
	stNVSets struct {
		ID   string        `xml:"id,attr"`
		Sets []stAttrBlock `xml:"instance_attributes"`
	}
	stAttrBlock struct {
		ID     string     `xml:"id,attr"`
		NVPair []stNVPair `xml:"nvpair"`
	}
	stNVPair struct {
		ID    string `xml:"id,attr"`
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	stLRM struct {
		ID        string `xml:"id,attr"`
		Resources []struct {
			List []stLRMResource `xml:"lrm_resource"`
		} `xml:"lrm_resources"`
	}
	stLRMResource struct {
		ID       string    `xml:"id,attr"`
		Class    string    `xml:"class,attr"`
		Provider string    `xml:"provider,attr"`
		Type     string    `xml:"type,attr"`
		Ops      []stRscOp `xml:"lrm_rsc_op"`
	}
	stRscOp struct {
		ID            string `xml:"id,attr"`
		Operation     string `xml:"operation,attr"`
		OperationKey  string `xml:"operation_key,attr"`
		CallID        string `xml:"call-id,attr"`
		RCCode        string `xml:"rc-code,attr"`
		OpStatus      string `xml:"op-status,attr"`
		Interval      string `xml:"interval,attr"`
		LastRCChange  string `xml:"last-rc-change,attr"`
		LastRun       string `xml:"last-run,attr"`
		TransitionKey string `xml:"transition-key,attr"`
		OnNode        string `xml:"on_node,attr"`
	}
)

// statusDecode parses the CIB, naming where it is malformed.
func statusDecode(b []byte) (*stCIB, error) {
	var doc stCIB
	d := xml.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("status: empty document (want a <cib> element)")
		}
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("status: malformed XML at line %d: %s", se.Line, se.Msg)
		}
		return nil, fmt.Errorf("status: %w", err)
	}
	return &doc, nil
}

// statusReader holds what the import needs while it runs.
type statusReader struct {
	cfg *cib.Config
	doc *stCIB
	rep *StatusReport
	now time.Time // zero: nothing expires

	stonith       bool
	startupFence  bool
	stopOrphans   bool
	maintMode     bool
	legacyFails   bool // crm_feature_set < 3.0.13: fail-count-RSC without #op
	cloneOf       map[string]*cib.Clone
	groupOf       map[string]*cib.Group
	fenceDevs     map[string]bool
	primsByID     map[string]*cib.Primitive
	nodeStateByNm map[string]*statusNode
}

// statusNode is one node as the import sees it.
type statusNode struct {
	name       string
	state      scheduler.NodeState
	online     bool // Pacemaker's online: can run resources
	expectedUp bool
	shutdown   bool
	pending    bool
	maint      bool
	attrs      map[string]string
	fails      map[string]statusFailCount // by primitive; filled when first needed
	xml        *stNodeState
}

func (r *statusReader) note(format string, args ...any) {
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf(format, args...))
}

// setNow picks the time failure-timeout is judged at, as crm_simulate
// does: --date, else the CIB's execution-date, else the current time.
func (r *statusReader) setNow(opt StatusOptions) error {
	if s := r.doc.ExecutionDate; s != "" {
		t, err := statusEpoch(s)
		if err != nil {
			return fmt.Errorf("status: <cib execution-date=%q>: %w", s, err)
		}
		r.rep.ExecutionDate = t
	}
	switch {
	case !opt.Now.IsZero():
		r.now, r.rep.NowSource = opt.Now, "option"
	case !r.rep.ExecutionDate.IsZero():
		r.now, r.rep.NowSource = r.rep.ExecutionDate, "execution-date"
	case !opt.Fallback.IsZero():
		r.now, r.rep.NowSource = opt.Fallback, "fallback"
	default:
		r.rep.NowSource = "none"
	}
	r.rep.Now = r.now
	return nil
}

// statusEpoch reads seconds since the epoch, as Pacemaker writes times in
// the status (last-rc-change, execution-date, last-failure-RSC).
func statusEpoch(s string) (time.Time, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("not a time in seconds since the epoch: %q", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

// indexConfig reads what the import needs from the configuration.
func (r *statusReader) indexConfig() {
	c := r.cfg
	r.stonith = statusTrue(c.Property("stonith-enabled"))
	r.startupFence = statusTrue(statusOr(r.cibOption("startup-fencing"), statusOr(c.Property("startup-fencing"), "true")))
	r.stopOrphans = statusTrue(statusOr(r.cibOption("stop-orphan-resources"), statusOr(c.Property("stop-orphan-resources"), "true")))
	r.maintMode = statusTrue(c.Property("maintenance-mode"))
	r.legacyFails = r.doc.FeatureSet != "" && statusCompareVersions(r.doc.FeatureSet, "3.0.13") < 0
	r.cloneOf, r.groupOf = map[string]*cib.Clone{}, map[string]*cib.Group{}
	r.primsByID, r.fenceDevs = map[string]*cib.Primitive{}, map[string]bool{}
	for i := range c.Primitives {
		r.primsByID[c.Primitives[i].ID] = &c.Primitives[i]
	}
	for i := range c.Groups {
		for _, m := range c.Groups[i].Members {
			r.groupOf[m] = &c.Groups[i]
		}
	}
	for i := range c.Clones {
		cl := &c.Clones[i]
		r.cloneOf[cl.Rsc] = cl
		if g := c.Group(cl.Rsc); g != nil {
			for _, m := range g.Members {
				r.cloneOf[m] = cl
			}
		}
	}
	for _, f := range c.FenceDevices {
		r.fenceDevs[f.ID] = true
	}
}

// cibOption is a cluster option as the CIB's crm_config sets it (the
// first set that names it), "" if none does.
func (r *statusReader) cibOption(name string) string {
	for _, set := range r.doc.CRMConfig {
		for _, nv := range set.NVPair {
			if nv.Name == name {
				return nv.Value
			}
		}
	}
	return ""
}

// statusOr is a, or b when a is empty.
func statusOr(a, b string) string {
	if a == "" {
		return b
	}
	return a
}

// statusTrue is Pacemaker's crm_is_true.
func statusTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "on", "yes", "y", "1":
		return true
	}
	return false
}

// statusCompareVersions compares dotted numeric versions (crm_feature_set).
func statusCompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// meta resolves a primitive's meta attribute through its group and
// clone, then the resource defaults (as the scheduler does).
func (r *statusReader) meta(p *cib.Primitive, name string) string {
	chain := []map[string]string{p.Meta}
	if g := r.groupOf[p.ID]; g != nil {
		chain = append(chain, g.Meta)
	}
	if cl := r.cloneOf[p.ID]; cl != nil {
		chain = append(chain, cl.Meta)
	}
	chain = append(chain, r.cfg.ResourceDefaults)
	for _, m := range chain {
		if v, ok := m[name]; ok {
			return v
		}
	}
	return ""
}

// managed says whether the cluster manages p (is-managed, maintenance,
// maintenance-mode).
func (r *statusReader) managed(p *cib.Primitive) bool {
	if r.maintMode || statusTrue(r.meta(p, "maintenance")) {
		return false
	}
	if v := r.meta(p, "is-managed"); v != "" && !statusTrue(v) {
		return false
	}
	return true
}

// read builds the Status: quorum, node states and attributes, then each
// node's resource history.
func (r *statusReader) read() (*scheduler.Status, error) {
	st := &scheduler.Status{Quorate: statusTrue(r.doc.HaveQuorum)}
	r.nodeStateByNm = map[string]*statusNode{}
	var states []stNodeState
	if r.doc.Status != nil {
		states = r.doc.Status.Nodes
	}
	// First pass: node states and transient attributes.
	for i := range states {
		ns := &states[i]
		if ns.ID == "" || ns.Uname == "" {
			// unpack_node_state: "Ignoring malformed node_state entry".
			r.note("<node_state id=%q uname=%q>: without an id or uname; ignored (as Pacemaker does)", ns.ID, ns.Uname)
			continue
		}
		if r.cfg.Node(ns.Uname) == nil {
			r.note("node_state %s: node %s is not in the configuration; ignored (as Pacemaker does)", ns.ID, ns.Uname)
			continue
		}
		if r.nodeStateByNm[ns.Uname] != nil {
			return nil, fmt.Errorf("status: <node_state id=%q uname=%q>: the node has two node_state entries", ns.ID, ns.Uname)
		}
		n, err := r.nodeState(ns)
		if err != nil {
			return nil, err
		}
		r.nodeStateByNm[ns.Uname] = n
	}
	// Configured nodes without a node_state: unseen.
	for _, cn := range r.cfg.Nodes {
		if r.nodeStateByNm[cn.Name] != nil {
			continue
		}
		n := &statusNode{name: cn.Name, state: scheduler.NodeOffline, attrs: map[string]string{}}
		if r.startupFence {
			n.state = scheduler.NodeUnclean
			r.note("node %s: no node_state; unclean until seen (startup-fencing)", cn.Name)
		}
		r.nodeStateByNm[cn.Name] = n
	}
	if !st.Quorate && r.cfg.Property("no-quorum-policy") == "suicide" {
		// unpack_node_state fences every online node; the scheduler
		// does the same from no-quorum-policy.
		r.note("no quorum with no-quorum-policy=suicide: the scheduler fences the online nodes")
	}
	// Second pass: resource histories.
	for _, cn := range r.cfg.Nodes {
		n := r.nodeStateByNm[cn.Name]
		ns := scheduler.NodeStatus{Name: cn.Name}
		switch {
		case n.xml == nil:
		case !r.stonith && !n.online:
			// unpack_node_history: without fencing, the history of a
			// node that is not online is never read; what it ran is
			// taken as stopped.
			if len(n.xml.LRM) > 0 {
				r.note("node %s: %s without fencing: its resource history is ignored (as Pacemaker does)", cn.Name, n.state)
			}
		default:
			res, err := r.nodeHistory(n)
			if err != nil {
				return nil, err
			}
			ns.Resources = res
		}
		r.promotionAliases(n)
		ns.State = n.state
		if len(n.attrs) > 0 {
			ns.Attributes = n.attrs
		}
		st.Nodes = append(st.Nodes, ns)
	}
	return st, nil
}

// nodeState reads one node_state: its transient attributes, then its
// state as determine_online_status does.
func (r *statusReader) nodeState(ns *stNodeState) (*statusNode, error) {
	n := &statusNode{name: ns.Uname, attrs: map[string]string{}, xml: ns}
	for _, ta := range ns.Transient {
		for _, set := range ta.Sets {
			for _, nv := range set.NVPair {
				if nv.Name == "" {
					return nil, fmt.Errorf("status: node %s: transient <nvpair id=%q> without a name", ns.Uname, nv.ID)
				}
				if _, ok := n.attrs[nv.Name]; !ok {
					n.attrs[nv.Name] = nv.Value
				}
			}
		}
	}
	if v, ok := n.attrs["shutdown"]; ok && v != "0" {
		n.shutdown = true
	} else if strings.EqualFold(ns.Expected, "member") {
		n.expectedUp = true
	}
	n.maint = statusTrue(n.attrs["maintenance"])
	inCluster := ns.InCCM != nil && statusTrueOrStamp(*ns.InCCM)
	crmdOnline := strings.EqualFold(ns.Crmd, "online") || statusStamp(ns.Crmd)
	join := strings.ToLower(ns.Join)
	unclean := false
	if !r.stonith {
		switch {
		case !inCluster:
		case crmdOnline:
			n.online = join == "member"
			if !n.online {
				r.note("node %s: in the cluster but join=%s: not ready to run resources (offline)", ns.Uname, ns.Join)
			}
		case !n.expectedUp:
		default:
			unclean = true // "peer is unexpectedly down"
		}
	} else {
		terminate := n.attrs["terminate"]
		doTerminate := statusTrue(terminate) || (terminate != "" && terminate[0] != '0' && terminate[0] >= '1' && terminate[0] <= '9')
		expected := strings.ToLower(statusOr(ns.Expected, "down"))
		n.online = inCluster
		switch {
		case n.shutdown:
			n.online = crmdOnline
		case ns.InCCM == nil:
			unclean = true // "peer has not been seen by the cluster"
		case join == "banned":
			unclean = true // "peer failed Pacemaker membership criteria"
		case !doTerminate && expected == "down":
			if inCluster || crmdOnline {
				n.pending = true
			}
		case doTerminate && join == "down" && !inCluster && !crmdOnline:
			n.online = false // "was just shot"
		case !inCluster:
			unclean = true // "peer is no longer part of the cluster"
		case !crmdOnline:
			unclean = true // "peer process is no longer available"
		case doTerminate:
			unclean = true // "termination was requested"
		case join == "member":
		case join == "pending" || join == "down":
			n.pending = true
		default:
			unclean = true // "peer was in an unknown state"
		}
	}
	switch {
	case unclean:
		n.online, n.state = false, scheduler.NodeUnclean
	case n.online:
		n.state = scheduler.NodeOnline
	default:
		n.state = scheduler.NodeOffline
	}
	if n.online && (n.pending || n.shutdown) {
		// Pacemaker keeps resources off a pending or shutting-down
		// node (standby, weight -INFINITY); standby says that to the
		// scheduler.
		n.attrs["standby"] = "true"
		why := "pending (join " + statusOr(ns.Join, "unset") + ")"
		if n.shutdown {
			why = "shutting down"
		}
		r.note("node %s: %s: taken as standby", ns.Uname, why)
	}
	return n, nil
}

// statusTrueOrStamp reads in_ccm: a boolean, or (newer Pacemaker) the
// time the node joined, 0 when it is not a member.
func statusTrueOrStamp(s string) bool {
	return statusTrue(s) || statusStamp(s)
}

// statusStamp says whether s is a non-zero timestamp (newer Pacemaker
// writes in_ccm and crmd as the time the node joined).
func statusStamp(s string) bool {
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 1
}

// statusSortedKeys returns the keys of m, sorted.
func statusSortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// promotionAliases gives the scheduler master-RSC for promotion scores an
// older CIB keeps per instance (master-RSC:N, as crm_master wrote them for
// the instance name the history knows there). Pacemaker looks the score
// up by the name the node's history gives the instance, then by the
// primitive's name; without history on the node, the lowest instance
// number stands in for the instance Pacemaker would pick.
func (r *statusReader) promotionAliases(n *statusNode) {
	hist := map[string]string{} // primitive -> the lrm id on this node
	if n.xml != nil {
		for _, lrm := range n.xml.LRM {
			for _, rl := range lrm.Resources {
				for _, lr := range rl.List {
					if base, _, ok := statusCutInstance(lr.ID); ok && len(lr.Ops) > 0 && hist[base] == "" {
						hist[base] = lr.ID
					}
				}
			}
		}
	}
	for _, cl := range r.cfg.Clones {
		if !cl.Promotable {
			continue
		}
		members := []string{cl.Rsc}
		if g := r.cfg.Group(cl.Rsc); g != nil {
			members = g.Members
		}
		for _, p := range members {
			name := "master-" + p
			if _, ok := n.attrs[name]; ok {
				continue
			}
			if id := hist[p]; id != "" {
				if v, ok := n.attrs["master-"+id]; ok {
					n.attrs[name] = v
					r.note("node %s: promotion score %s read from master-%s", n.name, name, id)
					continue
				}
			}
			best, bestN := "", -1
			for _, a := range statusSortedKeys(n.attrs) {
				base, num, ok := statusCutInstance(strings.TrimPrefix(a, "master-"))
				if !strings.HasPrefix(a, "master-") || !ok || base != p {
					continue
				}
				if k, _ := strconv.Atoi(num); bestN < 0 || k < bestN {
					best, bestN = a, k
				}
			}
			if best != "" {
				n.attrs[name] = n.attrs[best]
				r.note("node %s: promotion score %s read from %s", n.name, name, best)
			}
		}
	}
}
