package scheduler

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/paceline/paceline/cib"
)

// foldDepth bounds how far along a chain of colocations the dependents'
// preferences are folded into a primary's scores.
const foldDepth = 8

// total is a unit's score on a node from its own and its first k members'
// base scores (k < 0: all members).
func (u *unit) total(ni, k int) cib.Score {
	if u.capped != nil && u.capped[ni] && (k < 0 || k >= len(u.prims)) {
		return 1
	}
	s := u.scores[ni]
	if k < 0 || k > len(u.prims) {
		k = len(u.prims)
	}
	for _, p := range u.prims[:k] {
		s = s.Add(p.base[ni])
	}
	return s
}

// currentNode is where a primitive or group runs now (-1: nowhere).
func (u *unit) currentNode() int {
	if u.kind == unitClone {
		return -1
	}
	for _, p := range u.prims {
		for _, r := range p.running {
			if !r.implied {
				return r.node // failed or not, as Pacemaker's current node
			}
		}
	}
	return -1
}

// allocate places every unit, in Pacemaker's order.
func (w *world) allocate() {
	order := slices.Clone(w.units)
	cur := make([]int, len(w.units))
	totals := make([][]cib.Score, len(w.units))
	for i, u := range w.units {
		cur[i] = u.currentNode()
		totals[i] = make([]cib.Score, len(w.nodes))
		for ni := range w.nodes {
			totals[i][ni] = u.total(ni, -1)
		}
	}
	curScore := func(u *unit) cib.Score {
		if n := cur[u.order]; n >= 0 {
			return totals[u.order][n]
		}
		return -cib.Infinity
	}
	// The nodes in Pacemaker's compare_nodes order before anything is
	// allocated (pcmk__sort_resources): nodes that can run resources
	// first, then with balanced placement the most free capacity, then
	// name.
	nodeOrder := make([]int, len(w.nodes))
	for ni := range nodeOrder {
		nodeOrder[ni] = ni
	}
	slices.SortStableFunc(nodeOrder, func(a, b int) int {
		na, nb := w.nodes[a], w.nodes[b]
		if na.canRun != nb.canRun {
			if na.canRun {
				return -1
			}
			return 1
		}
		if w.strategy == "balanced" {
			if c := capacityCmp(na, nb); c != 0 {
				return c
			}
		}
		return cmp.Compare(na.name, nb.name)
	})
	slices.SortStableFunc(order, func(a, b *unit) int {
		if c := cmp.Compare(b.priority, a.priority); c != 0 {
			return c
		}
		if c := cmp.Compare(curScore(b), curScore(a)); c != 0 {
			return c
		}
		ta, tb := totals[a.order], totals[b.order]
		for _, ni := range nodeOrder {
			if c := cmp.Compare(tb[ni], ta[ni]); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.order, b.order)
	})
	for _, u := range order {
		w.assign(u)
	}
	w.applyOrderRunnability()
}

// primarySet marks the nodes where a placed primary runs in a role ("" any).
func (w *world) primarySet(u *unit, role string) []bool {
	set := make([]bool, len(w.nodes))
	switch u.kind {
	case unitClone:
		for _, in := range u.inst {
			if in.node >= 0 && (role == "" || role == cib.RoleStarted || in.role == role) {
				set[in.node] = true
			}
		}
	default:
		if u.node >= 0 && u.placed > 0 && (role == "" || role == cib.RoleStarted) {
			set[u.node] = true
		}
	}
	return set
}

// pinnedNodes is where the members of a primitive or group stay pinned
// (unmanaged, blocked), which may be more than one node.
func (w *world) pinnedNodes(u *unit) []bool {
	set := make([]bool, len(w.nodes))
	if u.kind == unitClone {
		return set
	}
	for _, p := range u.prims {
		for _, r := range p.running {
			if r.blocked != "" {
				set[r.node] = true
			}
		}
	}
	return set
}

func anyTrue(b []bool) bool { return slices.Contains(b, true) }

func nodeList(w *world, set []bool) string {
	var names []string
	for i, ok := range set {
		if ok {
			names = append(names, w.nodes[i].name)
		}
	}
	return strings.Join(names, ",")
}

// assign places one unit, after the primaries it is colocated with.
func (w *world) assign(u *unit) {
	if u.state != 0 {
		return
	}
	u.state = 1
	for _, c := range u.asDep {
		w.assign(c.prim)
	}
	for _, c := range u.asDep {
		if c.depRole == cib.RolePromoted || c.depRole == cib.RoleUnpromoted {
			continue // counts towards promotion only
		}
		if c.prim.state == 1 {
			// A loop of colocations: the primary waits for this unit to
			// be placed. As in Pacemaker, a primary not yet placed
			// affects nothing; the loop is closed by the primary's own
			// colocation, and a mandatory one left broken stops this
			// unit (applyOrderRunnability).
			for ni := range w.nodes {
				u.add(ni, 0, "colocation "+c.c.ID+" with "+c.prim.id+": a loop, "+c.prim.id+" is placed after this")
			}
			continue
		}
		set := w.primarySet(c.prim, c.primRole)
		src := "colocation " + c.c.ID + " with " + c.prim.id
		if c.primRole != "" && c.primRole != cib.RoleStarted {
			src += " (" + c.primRole + ")"
		}
		switch {
		case c.score >= cib.Infinity:
			where := "which is not running"
			if anyTrue(set) {
				where = "on " + nodeList(w, set)
			}
			for ni := range w.nodes {
				if !set[ni] {
					u.add(ni, -cib.Infinity, src+", "+where)
				}
			}
		case c.score <= -cib.Infinity:
			// A pinned member of a group that stays away from the group's
			// node (a split, unmanaged group) still counts.
			stays := w.pinnedNodes(c.prim)
			for ni := range w.nodes {
				if set[ni] || stays[ni] {
					u.add(ni, -cib.Infinity, src+" (runs here)")
				}
			}
		default:
			for ni := range w.nodes {
				if set[ni] {
					u.add(ni, c.score, src+" (runs here)")
				}
			}
		}
	}
	w.fold(u)
	switch u.kind {
	case unitClone:
		w.assignClone(u)
	default:
		w.assignSingle(u)
	}
	u.state = 2
}

// fold adds the preferences of u's not yet placed dependents, scaled by
// score/INFINITY, as Pacemaker's pcmk__add_colocated_node_scores does:
// each dependent in turn, then its own dependents (recursively, at the
// product of the factors); a dependent whose preferences would leave u no
// node with a score of 0 or more is rolled back, with everything folded
// below it. A group dependent is folded member by member (each member is
// colocated with the one before): its own scores with its first member's,
// then each later member while some node stays usable.
func (w *world) fold(u *unit) {
	if len(u.asPrim) == 0 {
		return
	}
	nn := len(w.nodes)
	f := &folding{
		w:      w,
		nonneg: u.kind == unitClone,
		capped: make([]bool, nn),
		score:  make([]cib.Score, nn),
		on:     map[*unit]bool{u: true},
	}
	for ni := range nn {
		f.score[ni] = u.total(ni, -1)
	}
	if u.contrib != nil {
		f.srcs = make([][]Contribution, nn)
	}
	f.added = make([]cib.Score, nn)
	f.dependents(u, 1, 1)
	for ni := range nn {
		if f.capped[ni] {
			// A clone's node kept usable at 1, whatever it had.
			if u.capped == nil {
				u.capped = make([]bool, nn)
			}
			u.capped[ni] = true
		} else {
			u.scores[ni] = u.scores[ni].Add(f.added[ni])
		}
		if f.srcs != nil {
			u.contrib[ni] = append(u.contrib[ni], f.srcs[ni]...)
		}
	}
}

// folding is one fold's working set: the primary's scores as folded so
// far, per node.
type folding struct {
	w      *world
	nonneg bool // a clone's fold (pcmk__coloc_select_nonnegative)
	capped []bool
	score  []cib.Score // the primary's total so far
	added  []cib.Score // what the fold added to it
	srcs   [][]Contribution
	on     map[*unit]bool // the units on the current path (loops)
}

type foldState struct {
	score  []cib.Score
	added  []cib.Score
	capped []bool
	srcs   [][]Contribution
}

func (f *folding) save() foldState {
	st := foldState{score: slices.Clone(f.score), added: slices.Clone(f.added), capped: slices.Clone(f.capped)}
	if f.srcs != nil {
		st.srcs = make([][]Contribution, len(f.srcs))
		for i := range f.srcs {
			st.srcs[i] = slices.Clone(f.srcs[i])
		}
	}
	return st
}

func (f *folding) restore(st foldState) {
	f.score, f.added, f.capped, f.srcs = st.score, st.added, st.capped, st.srcs
}

// usable reports whether some node can still take the primary.
func (f *folding) usable() bool {
	for ni, n := range f.w.nodes {
		if n.canRun && f.score[ni] >= 0 {
			return true
		}
	}
	return false
}

// add folds one score table, scaled by factor. A clone folds only what
// keeps a node usable: an addition that would take a node with a positive
// score below zero leaves it at 1 and ends the folding there, one that
// would take a node at 0 below zero is skipped.
func (f *folding) add(score func(ni int) cib.Score, factor float64, src string) {
	for ni := range f.score {
		s := scale(score(ni), factor)
		if s == 0 {
			continue
		}
		note := ""
		if f.nonneg {
			if f.capped[ni] {
				continue
			}
			if n := f.score[ni].Add(s); n < 0 && f.score[ni] >= 0 {
				if f.score[ni] == 0 {
					continue
				}
				f.capped[ni] = true
				s = 1 - f.score[ni]
				note = ", capped: a clone's node stays usable"
			}
		}
		f.score[ni] = f.score[ni].Add(s)
		f.added[ni] = f.added[ni].Add(s)
		if f.capped[ni] {
			f.score[ni] = 1
		}
		if f.srcs != nil {
			f.srcs[ni] = append(f.srcs[ni], Contribution{Source: src + note, Score: s})
		}
	}
}

// dependents folds x's dependents at factor.
func (f *folding) dependents(x *unit, factor float64, depth int) {
	if depth > foldDepth {
		return
	}
	for _, c := range x.asPrim {
		d := c.dep
		if c.score <= 0 || d.state == 2 || f.on[d] || (c.depRole != "" && c.depRole != cib.RoleStarted) ||
			(c.primRole != "" && c.primRole != cib.RoleStarted) {
			continue
		}
		fd := factor * float64(c.score) / float64(cib.Infinity)
		src := fmt.Sprintf("preference of %s, colocated with it (%s)", d.id, c.c.ID)
		st := f.save()
		if d.kind == unitGroup {
			f.add(func(ni int) cib.Score { return d.total(ni, 1) }, fd, src)
			if !f.usable() {
				f.restore(st)
				continue
			}
			for k := 1; k < len(d.prims); k++ {
				mst := f.save()
				p := d.prims[k]
				f.add(func(ni int) cib.Score { return p.base[ni] }, fd, src+", member "+p.id)
				if !f.usable() {
					f.restore(mst)
					break
				}
			}
		} else {
			f.add(func(ni int) cib.Score { return d.total(ni, -1) }, fd, src)
			if !f.usable() {
				f.restore(st)
				continue
			}
		}
		f.on[d] = true
		f.dependents(d, fd, depth+1)
		delete(f.on, d)
	}
}

// scale multiplies a score by a factor, keeping ±INFINITY when the factor
// is 1, truncating towards zero as Pacemaker does.
func scale(s cib.Score, f float64) cib.Score {
	if f >= 1 {
		return s
	}
	return cib.Score(0).Add(cib.Score(int64(float64(s) * f)))
}

// util sums the utilization of prims.
func util(prims []*prim) map[string]int64 {
	var m map[string]int64
	for _, p := range prims {
		for k, v := range p.cfg.Utilization {
			if m == nil {
				m = map[string]int64{}
			}
			m[k] += v
		}
	}
	return m
}

// fits reports whether n has room for need (placement strategies other
// than default).
func (w *world) fits(n *node, need map[string]int64) bool {
	if w.strategy == "default" {
		return true
	}
	for k, v := range need {
		if n.cap[k]-n.used[k] < v {
			return false
		}
	}
	return true
}

// capacityCmp compares the free capacity of two nodes for balanced
// placement: negative when a has more room on more attributes.
func capacityCmp(a, b *node) int {
	keys := map[string]bool{}
	for k := range a.cap {
		keys[k] = true
	}
	for k := range b.cap {
		keys[k] = true
	}
	r := 0
	for k := range keys {
		fa, fb := a.cap[k]-a.used[k], b.cap[k]-b.used[k]
		switch {
		case fa > fb:
			r--
		case fa < fb:
			r++
		}
	}
	return r
}

// best picks a node from the candidates (score ≥ 0) by Pacemaker's
// compare_nodes, then keeps the current node on an equal positive score.
func (w *world) best(scores []cib.Score, ok func(ni int) bool, current int) int {
	better := func(a, b int) bool { // a sorts before b
		if scores[a] != scores[b] {
			return scores[a] > scores[b]
		}
		na, nb := w.nodes[a], w.nodes[b]
		if w.strategy != "minimal" {
			if w.strategy == "balanced" {
				if c := capacityCmp(na, nb); c != 0 {
					return c < 0
				}
			}
			if na.count != nb.count {
				return na.count < nb.count
			}
			if a == current || b == current {
				return a == current
			}
		}
		return na.name < nb.name
	}
	chosen, curOK := -1, false
	for ni, n := range w.nodes {
		if !n.canRun || scores[ni] < 0 || !ok(ni) {
			continue
		}
		if ni == current {
			curOK = true
		}
		if chosen < 0 || better(ni, chosen) {
			chosen = ni
		}
	}
	if chosen >= 0 && scores[chosen] > 0 && curOK && current != chosen && scores[current] == scores[chosen] {
		chosen = current
	}
	return chosen
}

func (w *world) take(ni int, prims []*prim) {
	n := w.nodes[ni]
	n.count += len(prims)
	for k, v := range util(prims) {
		n.used[k] += v
	}
}

// assignSingle places a primitive or a group.
func (w *world) assignSingle(u *unit) {
	if u.fixed {
		u.placed = len(u.prims)
		w.take(u.node, u.prims)
		u.reason = u.fixedBy
		u.result = "stays on " + w.nodes[u.node].name + ": " + u.fixedBy
		return
	}
	kmax := 0
	for _, p := range u.prims {
		if p.target == cib.RoleStopped || p.stop || !p.managed {
			break // an unmanaged resource that is not running is not started
		}
		kmax++
	}
	cur := u.currentNode()
	chain := w.chainNeed(u, kmax)
	for k := kmax; k >= 1; k-- {
		totals := make([]cib.Score, len(w.nodes))
		for ni := range w.nodes {
			totals[ni] = u.total(ni, k)
		}
		need := util(u.prims[:k])
		if chain != nil {
			need = chain
		}
		ni := w.best(totals, func(ni int) bool { return w.fits(w.nodes[ni], need) }, cur)
		if ni < 0 {
			continue
		}
		u.node, u.placed = ni, k
		w.take(ni, u.prims[:k])
		u.result = fmt.Sprintf("runs on %s (score %s)", w.nodes[ni].name, totals[ni])
		if k < len(u.prims) {
			u.result += fmt.Sprintf("; %s and the members after it are stopped", u.prims[k].id)
		}
		return
	}
	u.node, u.placed = -1, 0
	u.reason = w.whyStopped(u, kmax)
	u.result = "stopped: " + u.reason
}

// chainNeed is, for a primitive placed with a placement strategy, the
// utilization it must find room for together with the resources not yet
// placed that are colocated with it (nil: its own), as Pacemaker's
// pcmk__ban_insufficient_capacity does: if some node it may use has room
// for the whole mandatory colocation chain (pcmk__colocated_resources:
// INFINITY colocations either way, transitively), the nodes without that
// room are banned, so the chain is not split where it cannot all fit;
// if none has, only its own utilization counts. A group member's chain
// is its group (which a group's placement already requires), and clones
// are not followed: their utilization is per instance.
func (w *world) chainNeed(u *unit, kmax int) map[string]int64 {
	if w.strategy == "" || w.strategy == "default" || u.kind != unitPrimitive || kmax == 0 {
		return nil
	}
	seen := map[*unit]bool{u: true}
	stack := []*unit{u}
	var prims []*prim
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x.state != 2 {
			prims = append(prims, x.prims...)
		}
		var next []*colocation
		next = append(next, x.asDep...)
		next = append(next, x.asPrim...)
		for _, c := range next {
			if c.score < cib.Infinity || (c.depRole != "" && c.depRole != cib.RoleStarted) ||
				(c.primRole != "" && c.primRole != cib.RoleStarted) {
				continue
			}
			for _, y := range []*unit{c.dep, c.prim} {
				if !seen[y] && y.kind != unitClone {
					seen[y] = true
					stack = append(stack, y)
				}
			}
		}
	}
	if len(prims) == len(u.prims) {
		return nil
	}
	need := util(prims)
	for ni, n := range w.nodes {
		if n.canRun && u.total(ni, -1) >= 0 && w.fits(n, need) {
			return need
		}
	}
	return nil
}

// whyStopped explains a unit that could not be placed.
func (w *world) whyStopped(u *unit, kmax int) string {
	if kmax == 0 {
		p := u.prims[0]
		switch {
		case p.multi && p.multiple == "stop_only":
			return "active on several nodes (multiple-active=stop_only)"
		case p.stop:
			return p.stopWhy
		case !p.managed:
			return "unmanaged, and not running"
		case p.target != cib.RoleStopped:
			for _, q := range u.prims {
				if q.stop {
					return q.id + ": " + q.stopWhy
				}
				if q.target == cib.RoleStopped {
					return "target-role Stopped (" + q.id + ")"
				}
			}
		}
		return "target-role Stopped"
	}
	var parts []string
	need := util(u.prims[:1])
	for ni, n := range w.nodes {
		t := u.total(ni, 1)
		switch {
		case !n.canRun:
			parts = append(parts, n.name+": "+n.why)
		case t < 0:
			parts = append(parts, fmt.Sprintf("%s: score %s", n.name, t))
		case !w.fits(n, need):
			parts = append(parts, n.name+": not enough capacity")
		}
	}
	return "no node can run it (" + strings.Join(parts, "; ") + ")"
}

// assignClone places a clone's instances and chooses the promoted ones.
func (w *world) assignClone(u *unit) {
	rep := u.prims[0]
	nn := len(w.nodes)
	cnt := make([]int, nn)
	u.inst = nil
	// Instances pinned where they are (unmanaged, blocked, frozen): on
	// each node, as many as the member with the most pinned entries there.
	pinned := make([][]runState, nn)
	for _, p := range u.prims {
		per := make([][]runState, nn)
		for _, r := range p.running {
			if r.blocked != "" {
				per[r.node] = append(per[r.node], r)
			}
		}
		for ni := range nn {
			if len(per[ni]) > len(pinned[ni]) {
				pinned[ni] = per[ni]
			}
		}
	}
	for ni := range nn {
		for _, r := range pinned[ni] {
			role := r.role
			if r.keepAs != "" {
				role = r.keepAs
			}
			over := len(u.inst) >= u.cloneMax || cnt[ni] >= u.cloneNodeMax
			u.inst = append(u.inst, inst{node: ni, role: role, fixed: r.blocked, over: over})
			cnt[ni]++
			w.take(ni, u.prims)
		}
	}
	totals := make([]cib.Score, nn)
	for ni := range nn {
		totals[ni] = u.total(ni, -1)
	}
	stopped := false
	for _, p := range u.prims {
		stopped = stopped || p.target == cib.RoleStopped || p.stop
	}
	if !rep.managed {
		stopped = true // an unmanaged clone gets no new instance
	}
	need := util(u.prims)
	var avail []int
	for ni, n := range w.nodes {
		if n.canRun && totals[ni] >= 0 && !stopped {
			avail = append(avail, ni)
		}
	}
	slices.SortStableFunc(avail, func(a, b int) int { return cmp.Compare(totals[b], totals[a]) })
	cur := make([]int, nn)
	for _, r := range rep.running {
		if r.blocked == "" && !r.implied {
			cur[r.node]++
		}
	}
	total := len(u.inst)
	place := func(ni int) bool {
		if total >= u.cloneMax || cnt[ni] >= u.cloneNodeMax || !w.fits(w.nodes[ni], need) {
			return false
		}
		u.inst = append(u.inst, inst{node: ni, role: cib.RoleStarted})
		cnt[ni]++
		total++
		w.take(ni, u.prims)
		return true
	}
	if len(avail) > 0 {
		per := min((u.cloneMax+len(avail)-1)/len(avail), u.cloneNodeMax)
		for _, ni := range avail {
			for cnt[ni] < min(cur[ni], per) && place(ni) {
			}
		}
		for k := 1; k <= u.cloneNodeMax && total < u.cloneMax; k++ {
			for _, ni := range avail {
				if cnt[ni] < k {
					place(ni)
				}
			}
		}
	}
	if u.promotable {
		for i := range u.inst {
			if u.inst[i].fixed == "" {
				u.inst[i].role = cib.RoleUnpromoted
			}
		}
		w.promote(u)
	}
	slices.SortStableFunc(u.inst, func(a, b inst) int { return cmp.Compare(a.node, b.node) })
	var on []string
	for _, in := range u.inst {
		on = append(on, w.nodes[in.node].name+" "+in.role)
	}
	switch {
	case len(u.inst) > 0:
		u.result = fmt.Sprintf("%d of %d instances: %s", len(u.inst), u.cloneMax, strings.Join(on, ", "))
	case stopped:
		u.reason = w.whyStopped(u, 0)
		u.result = "stopped: " + u.reason
	default:
		u.reason = w.whyStopped(u, len(u.prims))
		u.result = "stopped: " + u.reason
	}
}

// promote chooses the promoted instances of a promotable clone.
func (w *world) promote(u *unit) {
	p := u.prims[0]
	if len(u.prims) > 1 {
		w.warn("%s: promotable clones of groups are not promoted by this scheduler", u.id)
		return
	}
	pcount := make([]int, len(w.nodes))
	left := u.promotedMax
	for _, in := range u.inst {
		if in.fixed != "" && in.role == cib.RolePromoted {
			pcount[in.node]++
			left--
		}
	}
	if roleRank[p.target] < roleRank[cib.RoleStarted] || !w.quorate {
		u.promoResult = "no promotion: target-role " + p.target
		if !w.quorate {
			u.promoResult = "no promotion: no quorum"
		}
		return
	}
	type cand struct {
		i     int
		score cib.Score
		cur   bool
	}
	var cands []cand
	var lines []string
	for i, in := range u.inst {
		if in.fixed != "" {
			continue
		}
		n := w.nodes[in.node]
		var s cib.Score
		defined := false
		var why []string
		if v, ok := n.attrs["master-"+p.id]; ok {
			if ps, err := cib.ParseScore(v); err == nil {
				s, defined = s.Add(ps), true
				why = append(why, fmt.Sprintf("%s master-%s", ps, p.id))
			}
		}
		for _, id := range []string{u.id, p.id} {
			for _, l := range w.locsOf[id] {
				if l.role != cib.RolePromoted {
					continue
				}
				if ls, ok := w.locScore(l, n); ok {
					s, defined = s.Add(ls), true
					why = append(why, fmt.Sprintf("%s location %s", ls, l.c.ID))
				}
			}
		}
		for _, c := range u.asDep {
			if c.depRole != cib.RolePromoted {
				continue
			}
			set := w.primarySet(c.prim, c.primRole)
			var cs cib.Score
			switch {
			case c.score >= cib.Infinity && !set[in.node]:
				cs = -cib.Infinity
			case c.score < cib.Infinity && set[in.node]:
				cs = c.score
			}
			if cs != 0 {
				s = s.Add(cs)
				why = append(why, fmt.Sprintf("%s colocation %s", cs, c.c.ID))
			}
		}
		isCur := false
		for _, r := range p.running {
			if r.node == in.node && r.role == cib.RolePromoted && !r.failed && !r.implied && !r.demote {
				isCur = true
				if p.stickiness != 0 {
					s = s.Add(p.stickiness)
					why = append(why, fmt.Sprintf("%s resource-stickiness (promoted here)", p.stickiness))
				}
			}
		}
		// Dependents of the promoted role bring their preferences, scaled by
		// score/INFINITY, as Pacemaker adds them to promotion priorities;
		// as when a clone is placed, only as far as they keep the score
		// usable (pcmk__coloc_select_nonnegative): a dependent that cannot
		// run anywhere does not keep the clone from being promoted.
		capped := false
		for _, c := range u.asPrim {
			if c.primRole != cib.RolePromoted || c.score <= 0 || c.dep.state == 2 || capped {
				continue
			}
			ds := scale(c.dep.total(in.node, -1), float64(c.score)/float64(cib.Infinity))
			if n := s.Add(ds); n < 0 && s >= 0 {
				if s == 0 {
					continue
				}
				capped = true
				why = append(why, fmt.Sprintf("%s preference of %s (%s, capped: the score stays usable at 1)", ds, c.dep.id, c.c.ID))
				s = 1
				continue
			}
			if ds != 0 {
				s = s.Add(ds)
				why = append(why, fmt.Sprintf("%s preference of %s (%s)", ds, c.dep.id, c.c.ID))
			}
		}
		if !defined {
			lines = append(lines, n.name+": no promotion score")
			continue
		}
		lines = append(lines, fmt.Sprintf("%s: %s (%s)", n.name, s, strings.Join(why, ", ")))
		if s >= 0 {
			cands = append(cands, cand{i, s, isCur})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		if a.cur != b.cur {
			if a.cur {
				return -1
			}
			return 1
		}
		return cmp.Compare(w.nodes[u.inst[a.i].node].name, w.nodes[u.inst[b.i].node].name)
	})
	for _, c := range cands {
		ni := u.inst[c.i].node
		if left <= 0 {
			break
		}
		if pcount[ni] >= u.promotedNodeMax {
			continue
		}
		u.inst[c.i].role = cib.RolePromoted
		pcount[ni]++
		left--
	}
	u.promoResult = "promotion scores: " + strings.Join(lines, "; ")
}

// applyOrderRunnability stops the `then` side of mandatory orders whose
// `first` will not be running, and the dependents of mandatory
// colocations whose primary will not be running, until nothing changes.
func (w *world) applyOrderRunnability() {
	limit := len(w.cfg.Constraints.Order) + len(w.colos) + 2
	for changed, rounds := true, 0; changed && rounds <= limit; rounds++ {
		changed = false
		for _, oc := range w.orders {
			o := oc.c
			if o.Kind != cib.OrderMandatory || (o.ThenAction != OpStart && o.ThenAction != OpPromote) {
				continue
			}
			if o.FirstAction != OpStart && o.FirstAction != OpPromote {
				continue
			}
			if !w.willRun(o.Then, OpStart) {
				continue
			}
			// Interleaved clones (Pacemaker's multi_update_interleave_actions):
			// an instance of `then` on a node where no instance of `first`
			// is placed cannot start there and is stopped, whatever the
			// other nodes do (symmetrical mandatory orders only).
			if o.Symmetrical && oc.first.kind == unitClone && oc.then.kind == unitClone && oc.then.interleave && oc.first != oc.then &&
				w.willRun(o.First, o.FirstAction) {
				if w.dropOutside(oc.then, w.primarySet(oc.first, ""), fmt.Sprintf("order %s: no instance of interleaved %s on the node", o.ID, o.First)) {
					changed = true
				}
			}
			if w.willRun(o.First, o.FirstAction) {
				// A `first` left failed where it runs (its recovery is
				// blocked) will not start: a `then` that is not running
				// is not started after it (Pacemaker's order7); one that
				// runs keeps running.
				if o.FirstAction == OpStart && !w.runsNow(o.Then) && w.failedBlocked(o.First) {
					if w.stopRsc(o.Then, fmt.Sprintf("order %s: %s failed and is blocked: it cannot be recovered", o.ID, o.First)) {
						changed = true
					}
				}
				continue
			}
			// An asymmetrical order only keeps `then` from starting: a
			// `then` that runs keeps running (Pacemaker's
			// bug-5014-A-stop-B-started).
			if !o.Symmetrical && w.runsNow(o.Then) {
				continue
			}
			// Only `then`'s promote is ordered: it is not promoted, and
			// runs unpromoted (Pacemaker makes the promote unrunnable).
			if o.ThenAction == OpPromote {
				if w.unpromote(oc.then, fmt.Sprintf("order %s: %s will not be %s", o.ID, o.First, map[string]string{OpStart: "running", OpPromote: "promoted"}[o.FirstAction])) {
					changed = true
				}
				continue
			}
			if w.stopRsc(o.Then, fmt.Sprintf("order %s: %s will not be %s", o.ID, o.First, map[string]string{OpStart: "running", OpPromote: "promoted"}[o.FirstAction])) {
				changed = true
			}
		}
		for _, c := range w.colos {
			if c.score < cib.Infinity || (c.depRole != "" && c.depRole != cib.RoleStarted) {
				continue
			}
			set := w.primarySet(c.prim, c.primRole)
			if !w.willRun(c.dep.id, OpStart) {
				continue
			}
			if !anyTrue(set) {
				if w.stopRsc(c.dep.id, fmt.Sprintf("colocation %s: %s will not be running", c.c.ID, c.prim.id)) {
					changed = true
				}
				continue
			}
			// The primary lost instances after the dependent was placed
			// with them: what is left outside its nodes stops.
			if w.dropOutside(c.dep, set, fmt.Sprintf("colocation %s: %s will not be running there", c.c.ID, c.prim.id)) {
				changed = true
			}
		}
	}
}

// unpromote keeps the instances of u (not its pinned ones) unpromoted; it
// reports whether anything changed.
func (w *world) unpromote(u *unit, reason string) bool {
	changed := false
	for i := range u.inst {
		if u.inst[i].fixed == "" && u.inst[i].role == cib.RolePromoted {
			u.inst[i].role = cib.RoleUnpromoted
			changed = true
		}
	}
	if changed {
		u.promoResult += "; no promotion: " + reason
	}
	return changed
}

// dropOutside stops what of u is placed outside set (not its pinned
// instances); it reports whether anything changed.
func (w *world) dropOutside(u *unit, set []bool, reason string) bool {
	if u.kind != unitClone {
		if u.fixed || u.node < 0 || u.placed == 0 || set[u.node] {
			return false
		}
		return w.stopRsc(u.id, reason)
	}
	var keep []inst
	for _, in := range u.inst {
		if in.fixed != "" || set[in.node] {
			keep = append(keep, in)
		}
	}
	if len(keep) == len(u.inst) {
		return false
	}
	u.inst = keep
	u.reason = reason
	u.result += "; " + reason
	return true
}

// failedBlocked reports whether resource id (a primitive or group) has a
// failed instance that is left blocked where it runs (on-fail=block, a
// failed stop that cannot be fenced).
func (w *world) failedBlocked(id string) bool {
	if w.unitOf[id].kind == unitClone {
		return false
	}
	for _, p := range w.primsOf(id) {
		for _, r := range p.running {
			if r.failed && r.blocked != "" && !r.implied {
				return true
			}
		}
	}
	return false
}

// runsNow reports whether any primitive of resource id runs now.
func (w *world) runsNow(id string) bool {
	for _, p := range w.primsOf(id) {
		for _, r := range p.running {
			if !r.implied {
				return true
			}
		}
	}
	return false
}

// willRun reports whether resource id (any kind) will be running (action
// start) or promoted (action promote) after the plan.
func (w *world) willRun(id, action string) bool {
	u := w.unitOf[id]
	switch u.kind {
	case unitClone:
		min := 1
		if v, err := cib.ParseScore(w.meta(u.meta, "clone-min")); err == nil && v > 0 {
			min = int(v)
		}
		n := 0
		for _, in := range u.inst {
			if action != OpPromote || in.role == cib.RolePromoted {
				n++
			}
		}
		if action == OpPromote {
			return n > 0
		}
		return n >= min
	default:
		if action == OpPromote {
			return false
		}
		if p := w.primIdx[id]; p != nil && u.kind == unitGroup {
			return u.node >= 0 && p.pos < u.placed
		}
		return u.node >= 0 && u.placed > 0
	}
}

// stopRsc takes resource id (and for a group member, the members after it)
// out of the placement; it reports whether anything changed.
func (w *world) stopRsc(id, reason string) bool {
	u := w.unitOf[id]
	switch u.kind {
	case unitClone:
		var keep []inst
		for _, in := range u.inst {
			if in.fixed != "" {
				keep = append(keep, in)
			}
		}
		if len(keep) == len(u.inst) {
			return false
		}
		u.inst = keep
		u.reason, u.result = reason, "stopped: "+reason
		return true
	default:
		if u.fixed || u.node < 0 {
			return false
		}
		k := 0
		if p := w.primIdx[id]; p != nil && u.kind == unitGroup {
			k = p.pos
		}
		if k >= u.placed {
			return false
		}
		u.placed = k
		if k == 0 {
			u.node = -1
		}
		u.reason = reason
		u.result += "; " + reason
		return true
	}
}
