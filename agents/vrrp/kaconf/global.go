package kaconf

import (
	"math"
	"net/netip"
	"time"
)

// This file reads global_defs (keepalived/core/global_parser.c). The block
// may come more than once; each adds to the settings so far.

const scGlobal = "global_defs"

// globalKeywords are the global_defs directives Paceline reads.
var globalKeywords = map[string]func(*parser, *Globals, *Node){
	"router_id": func(p *parser, g *Globals, n *Node) {
		if p.args(n, scGlobal, 1, 1) {
			g.RouterID = n.Args[0]
		}
	},
	"vrrp_version": func(p *parser, g *Globals, n *Node) {
		if !p.args(n, scGlobal, 1, 1) {
			return
		}
		v, err := parseInt(n.Args[0], 2, 3)
		if err != nil {
			p.errf(n, scGlobal, "vrrp_version must be 2 or 3: %v", err)
			return
		}
		g.VRRPVersion = v
	},
	"vrrp_mcast_group4": func(p *parser, g *Globals, n *Node) {
		if a, ok := p.mcastAddr(n, scGlobal, 4); ok {
			g.McastGroup4 = a
		}
	},
	"vrrp_mcast_group6": func(p *parser, g *Globals, n *Node) {
		if a, ok := p.mcastAddr(n, scGlobal, 6); ok {
			g.McastGroup6 = a
		}
	},
	"vrrp_garp_master_delay": func(p *parser, g *Globals, n *Node) {
		p.garpDelay(n, scGlobal, &g.GARP.MasterDelay)
	},
	"vrrp_garp_master_repeat": func(p *parser, g *Globals, n *Node) {
		p.garpRepeat(n, scGlobal, &g.GARP.MasterRepeat)
	},
	"vrrp_garp_master_refresh": func(p *parser, g *Globals, n *Node) {
		p.garpRefresh(n, scGlobal, &g.GARP.MasterRefresh)
	},
	"vrrp_garp_master_refresh_repeat": func(p *parser, g *Globals, n *Node) {
		p.garpRepeat(n, scGlobal, &g.GARP.MasterRefreshRepeat)
	},
	"vrrp_garp_interval": func(p *parser, g *Globals, n *Node) {
		p.garpInterval(n, &g.GARPInterval)
	},
	"vrrp_gna_interval": func(p *parser, g *Globals, n *Node) {
		p.garpInterval(n, &g.GNAInterval)
	},
	"vrrp_min_garp": func(p *parser, g *Globals, n *Node) {
		on, ok := p.flag(n, scGlobal)
		if !ok || !on {
			return
		}
		// One message, no repeats; only settings still at their default.
		def := defaultGARP()
		if g.GARP.MasterRepeat == def.MasterRepeat {
			g.GARP.MasterRepeat = 1
		}
		if g.GARP.MasterRefreshRepeat == def.MasterRefreshRepeat {
			g.GARP.MasterRefreshRepeat = 0
		}
		if g.GARP.MasterDelay == def.MasterDelay {
			g.GARP.MasterDelay = 0
		}
	},
	"script_user": func(p *parser, g *Globals, n *Node) {
		if user, group, ok := p.userGroup(n, scGlobal); ok {
			g.ScriptUser, g.ScriptGroup = user, group
		}
	},
	"enable_script_security": func(p *parser, g *Globals, n *Node) {
		if p.args(n, scGlobal, 0, 0) {
			g.EnableScriptSecurity = true
		}
	},
	"vrrp_strict": func(p *parser, g *Globals, n *Node) {
		if p.args(n, scGlobal, 0, 0) {
			g.Strict = true
		}
	},
}

// globalUnsupported are the other global_defs keywords of keepalived 2.2.
var globalUnsupported = func() map[string]string {
	m := map[string]string{}
	add := func(label string, kws ...string) {
		for _, k := range kws {
			if label == "" {
				m[k] = k
			} else {
				m[k] = k + " (" + label + ")"
			}
		}
	}
	add("email alerts", "notification_email", "notification_email_from", "smtp_server",
		"smtp_helo_name", "smtp_connect_timeout", "smtp_alert", "smtp_alert_vrrp",
		"smtp_alert_checker", "no_email_faults")
	add("LVS", "lvs_timeouts", "lvs_flush", "lvs_flush_on_stop", "lvs_flush_onstop",
		"lvs_sync_daemon", "lvs_notify_fifo", "lvs_notify_fifo_script", "checker_priority",
		"checker_no_swap", "checker_rt_priority", "checker_cpu_affinity",
		"checker_rlimit_rttime", "checker_rlimit_rtime", "checker_process_name",
		"lvs_process_name", "checker_log_all_failures", "lvs_netlink_cmd_rcv_bufs",
		"lvs_netlink_cmd_rcv_bufs_force", "lvs_netlink_monitor_rcv_bufs",
		"lvs_netlink_monitor_rcv_bufs_force", "rs_init_notifies", "no_checker_emails",
		"nftables_ipvs", "nftables_ipvs_priority", "nftables_ipvs_start_fwmark")
	add("BFD", "bfd_process_name", "bfd_priority", "bfd_no_swap", "bfd_rt_priority",
		"bfd_cpu_affinity", "bfd_rlimit_rttime", "bfd_rlimit_rtime")
	add("SNMP", "snmp_socket", "enable_traps", "enable_snmp_vrrp", "enable_snmp_keepalived",
		"enable_snmp_rfc", "enable_snmp_rfcv2", "enable_snmp_rfcv3", "enable_snmp_checker")
	add("D-Bus", "enable_dbus", "dbus_service_name")
	add("firewall", "vrrp_iptables", "vrrp_ipsets", "nftables", "nftables_priority",
		"nftables_ifindex", "nftables_counters")
	add("notify FIFO", "notify_fifo", "notify_fifo_script", "vrrp_notify_fifo",
		"vrrp_notify_fifo_script", "vrrp_notify_priority_changes",
		"fifo_write_vrrp_states_on_reload")
	add("VMAC", "vrrp_garp_extra_if", "vrrp_vmac_garp_intvl", "vmac_prefix", "vmac_addr_prefix")
	add("", "process_names", "process_name", "vrrp_process_name", "startup_script",
		"startup_script_timeout", "shutdown_script", "shutdown_script_timeout",
		"max_auto_priority", "min_auto_priority_delay", "dynamic_interfaces",
		"default_interface", "disable_local_igmp", "vrrp_garp_lower_prio_delay",
		"vrrp_garp_lower_prio_repeat", "vrrp_down_timer_adverts",
		"vrrp_lower_prio_no_advert", "vrrp_higher_prio_send_advert",
		"vrrp_check_unicast_src", "vrrp_skip_check_adv_addr", "vrrp_priority",
		"vrrp_no_swap", "vrrp_rt_priority", "vrrp_cpu_affinity", "vrrp_rlimit_rttime",
		"vrrp_rlimit_rtime", "vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_cmd_rcv_bufs_force",
		"vrrp_netlink_monitor_rcv_bufs", "vrrp_netlink_monitor_rcv_bufs_force",
		"process_monitor_rcv_bufs", "process_monitor_rcv_bufs_force", "vrrp_rx_bufs_policy",
		"vrrp_rx_bufs_multiplier", "vrrp_startup_delay", "log_unknown_vrids", "umask",
		"random_seed", "reload_check_config", "reload_time_file", "reload_repeat",
		"reload_file", "include_check", "config_save_dir", "tmp_config_directory",
		"data_use_instance", "linkbeat_use_polling")
	return m
}()

func (p *parser) globalDefs(n *Node) {
	if !p.block(n, "", 0) {
		return
	}
	readBlock(p, n, scGlobal, globalKeywords, &p.cfg.Globals, nil, globalUnsupported)
}

// mcastAddr reads a multicast group of the given family; an IPv6 group
// should be link-local (ff02::/16).
func (p *parser) mcastAddr(n *Node, sc string, fam int) (a netip.Addr, ok bool) {
	if !p.args(n, sc, 1, 1) {
		return a, false
	}
	a, dropped, err := parseAddr(n.Args[0])
	switch {
	case err != nil:
		p.errf(n, sc, "%s: %v", n.Keyword, err)
		return a, false
	case family(a) != fam:
		p.errf(n, sc, "%s: %s is not an IPv%d address", n.Keyword, n.Args[0], fam)
		return a, false
	case !a.IsMulticast():
		p.errf(n, sc, "%s: %s is not a multicast address", n.Keyword, n.Args[0])
		return a, false
	}
	if dropped != "" {
		p.warnf(n, sc, "%s: %q after the address ignored", n.Keyword, dropped)
	}
	if fam == 6 && !a.IsLinkLocalMulticast() {
		p.warnf(n, sc, "%s: %s should be a link-local multicast address (ff02::/16)", n.Keyword, n.Args[0])
	}
	return a, true
}

// garpDelay reads garp_master_delay: whole seconds.
func (p *parser) garpDelay(n *Node, sc string, dst *time.Duration) {
	if !p.args(n, sc, 1, 1) {
		return
	}
	d, err := parseWholeSeconds(n.Args[0], 0, math.MaxUint32/1000000)
	if err != nil {
		p.errf(n, sc, "%s: %v", n.Keyword, err)
		return
	}
	*dst = d
}

// garpRefresh reads garp_master_refresh: whole seconds, 0 for none.
func (p *parser) garpRefresh(n *Node, sc string, dst *time.Duration) {
	if !p.args(n, sc, 1, 1) {
		return
	}
	d, err := parseWholeSeconds(n.Args[0], 0, math.MaxUint32)
	if err != nil {
		p.errf(n, sc, "%s: %v", n.Keyword, err)
		return
	}
	*dst = d
}

// garpRepeat reads a repeat count; keepalived turns 0 into 1.
func (p *parser) garpRepeat(n *Node, sc string, dst *int) {
	if !p.args(n, sc, 1, 1) {
		return
	}
	v, err := parseUint(n.Args[0], 0, math.MaxUint32)
	if err != nil {
		p.errf(n, sc, "%s: %v", n.Keyword, err)
		return
	}
	if v == 0 {
		p.warnf(n, sc, "%s must be greater than 0; set to 1, as keepalived does", n.Keyword)
		v = 1
	}
	*dst = v
}

// garpInterval reads vrrp_garp_interval or vrrp_gna_interval: seconds with
// up to 6 decimals.
func (p *parser) garpInterval(n *Node, dst *time.Duration) {
	if !p.args(n, scGlobal, 1, 1) {
		return
	}
	d, err := parseSeconds(n.Args[0], time.Microsecond, math.MaxUint32*time.Microsecond)
	if err != nil {
		p.errf(n, scGlobal, "%s: %v", n.Keyword, err)
		return
	}
	*dst = d
}

// userGroup reads USER [GROUP]; both must look like names.
func (p *parser) userGroup(n *Node, sc string) (user, group string, ok bool) {
	if !p.args(n, sc, 1, 2) {
		return "", "", false
	}
	for _, a := range n.Args[:min(len(n.Args), 2)] {
		if !validUserName(a) {
			p.errf(n, sc, "%s: %q is not a valid user or group name", n.Keyword, a)
			return "", "", false
		}
	}
	if len(n.Args) > 1 {
		group = n.Args[1]
	}
	return n.Args[0], group, true
}
