package vip

import "github.com/paceline/paceline/agents/ocf"

// metaData is the agent's OCF meta-data. Timeouts follow IPaddr2's.
func metaData() *ocf.ResourceAgent {
	return &ocf.ResourceAgent{
		Name:    agentName,
		Version: "1.0",
		LongDesc: ocf.En(`Manages a virtual IPv4 or IPv6 address (a floating IP), like ocf:heartbeat:IPaddr2 for the common case but built into Paceline.

start adds the address to an interface over netlink and announces it at once: for IPv4, gratuitous ARP (a request and a reply per round); for IPv6, unsolicited neighbour advertisements with the override flag. The first round leaves as soon as the address is added, the others follow arp_interval apart, so neighbours switch to this node's MAC address without waiting for their caches to expire. IPv6 addresses are added without duplicate address detection (nodad) so that they are usable at once.

stop removes the address (whatever its prefix). monitor checks that the address is on the interface and that the interface is up.

Needs CAP_NET_ADMIN (addresses) and CAP_NET_RAW (announcements).`),
		ShortDesc: ocf.En("Virtual IP address with gratuitous ARP / unsolicited neighbour advertisements"),
		Parameters: []ocf.Parameter{
			{
				Name: paramIP, Unique: 1, Required: 1,
				LongDesc:  ocf.En("The virtual IPv4 or IPv6 address, without prefix length (e.g. 192.0.2.10 or 2001:db8::10)."),
				ShortDesc: ocf.En("Virtual IPv4 or IPv6 address"),
				Content:   ocf.Content{Type: "string"},
			},
			{
				Name:      paramNetmask,
				LongDesc:  ocf.En("The prefix length of the address (e.g. 24 or 64; for IPv4 a netmask such as 255.255.255.0 is accepted too). Default: the prefix length of the address on nic whose subnet holds ip."),
				ShortDesc: ocf.En("Prefix length"),
				Content:   ocf.Content{Type: "string"},
			},
			{
				Name:      paramNIC,
				LongDesc:  ocf.En("The interface to add the address to (e.g. eth0). Default: the one interface that has an address in a subnet holding ip; if none or several have, nic must be set."),
				ShortDesc: ocf.En("Network interface"),
				Content:   ocf.Content{Type: "string"},
			},
			{
				Name:      paramLabel,
				LongDesc:  ocf.En("IPv4 only: a label for the address, as ifconfig shows aliases (e.g. eth0:vip). It must start with the nic name and be at most 15 characters. Default: the nic name."),
				ShortDesc: ocf.En("IPv4 address label"),
				Content:   ocf.Content{Type: "string"},
			},
			{
				Name:      paramBroadcast,
				LongDesc:  ocf.En("IPv4 only: the broadcast address. Default: computed from ip and the prefix length (none for /31 and /32)."),
				ShortDesc: ocf.En("IPv4 broadcast address"),
				Content:   ocf.Content{Type: "string"},
			},
			{
				Name:      paramScope,
				LongDesc:  ocf.En("The address's scope, as ip-address(8) and keepalived's virtual_ipaddress take it: global, site, link, host, nowhere or a number 0-255."),
				ShortDesc: ocf.En("Address scope"),
				Content:   ocf.Content{Type: "string", Default: "global"},
			},
			{
				Name:      paramARPCount,
				LongDesc:  ocf.En("Announcement rounds sent on start (0..1000; 0 sends none). A round is a gratuitous ARP request and reply for IPv4, an unsolicited neighbour advertisement for IPv6. Rounds that would run past the start timeout are skipped."),
				ShortDesc: ocf.En("Announcement rounds"),
				Content:   ocf.Content{Type: "integer", Default: "5"},
			},
			{
				Name:      paramARPInterval,
				LongDesc:  ocf.En("The time between announcement rounds: 200ms, 1s, or a bare number of seconds (0.2). Unlike IPaddr2, a bare number is seconds, not milliseconds; at most 10s."),
				ShortDesc: ocf.En("Time between announcement rounds"),
				Content:   ocf.Content{Type: "string", Default: "200ms"},
			},
		},
		Actions: []ocf.ActionDef{
			{Name: ocf.Start, Timeout: "20s"},
			{Name: ocf.Stop, Timeout: "20s"},
			{Name: ocf.Monitor, Timeout: "20s", Interval: "10s", Depth: "0"},
			{Name: ocf.MetaData, Timeout: "5s"},
			{Name: ocf.ValidateAll, Timeout: "20s"},
		},
	}
}
