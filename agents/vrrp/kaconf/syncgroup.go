package kaconf

// This file reads vrrp_sync_group blocks (keepalived/vrrp/vrrp_parser.c:
// vrrp_sync_group_handler and the vrrp_g*_handler functions). Its members
// are found once the whole file is read (complete.go), as keepalived's
// vrrp_sync_set_group does.

// groupBuild is a sync group being read.
type groupBuild struct {
	g         *SyncGroup
	node      *Node
	sc        string
	groupNode *Node // the group { } directive
	tsNodes   []*Node
	tiNodes   []*Node
}

// groupKeywords are the vrrp_sync_group directives Paceline reads.
var groupKeywords = map[string]func(*parser, *groupBuild, *Node){
	"group": func(p *parser, gb *groupBuild, n *Node) {
		if !p.block(n, gb.sc, 0) {
			return
		}
		if gb.groupNode != nil {
			p.errf(n, gb.sc, "group given twice (first at %s)", gb.groupNode.Pos())
			return
		}
		gb.groupNode = n
		// keepalived reads every word of the block (read_value_block), so
		// "group { VI_1 VI_2 }" on one line is two instances.
		for _, e := range p.entries(n, gb.sc) {
			gb.g.Instances = append(gb.g.Instances, e.Keyword)
			gb.g.Instances = append(gb.g.Instances, e.Args...)
		}
	},
	"sync_group_tracking_weight": func(p *parser, gb *groupBuild, n *Node) {
		if p.args(n, gb.sc, 0, 0) {
			gb.g.TrackingWeight = true
		}
	},
	"global_tracking": func(p *parser, gb *groupBuild, n *Node) {
		if p.args(n, gb.sc, 0, 0) {
			p.warnf(n, gb.sc, "global_tracking is deprecated; read as sync_group_tracking_weight, as keepalived does")
			gb.g.TrackingWeight = true
		}
	},
}

// groupUnsupported are the other vrrp_sync_group keywords of keepalived 2.2.
var groupUnsupported = map[string]string{
	"track_file":              "track_file",
	"track_process":           "track_process",
	"track_bfd":               "track_bfd (BFD)",
	"notify_deleted":          "notify_deleted",
	"notify_priority_changes": "notify_priority_changes (notify FIFO)",
}

func (p *parser) vrrpSyncGroup(n *Node) {
	name, sc, ok := p.named(n, func(name string) (Pos, bool) {
		gb, ok := p.groups[name]
		if !ok {
			return Pos{}, false
		}
		return gb.g.Pos, true
	})
	if !ok {
		return
	}
	gb := &groupBuild{g: &SyncGroup{Name: name, Pos: n.Pos()}, node: n, sc: sc}
	p.groups[name] = gb
	p.groupList = append(p.groupList, gb)
	readBlock(p, n, sc, groupKeywords, gb, &sharedTarget{
		scripts: &gb.g.TrackScripts, scriptNodes: &gb.tsNodes,
		interfaces: &gb.g.TrackInterfaces, interfaceNodes: &gb.tiNodes,
		notify: &gb.g.Notify,
	}, groupUnsupported)
}
