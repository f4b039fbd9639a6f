// Package vrrp implements VRRP, the Virtual Router Redundancy Protocol:
// version 3 (RFC 5798) for IPv4 and IPv6, and version 2 (RFC 3768) for
// IPv4 with keepalived's simple password (auth_type PASS), so that it
// interoperates with keepalived on the wire.
//
// Its wire parts:
//
//	packet.go    Advert, its codec (Marshal, Parse) and checksums; a
//	             DropError with a DropReason for every packet Parse or
//	             Expect.Check refuses
//	counters.go  Counters: one atomic drop counter per DropReason
//	conn.go      Conn: a raw IP socket for protocol 112 (ip4:112 or
//	             ip6:112) on one interface: multicast group, TTL / hop
//	             limit 255, the received packet's TTL, destination and
//	             interface from control messages
//
//	              +-------------------+
//	   bytes  --> | Parse(b, src, dst,| --> Advert --> Expect.Check --> Advert
//	              |       ttl)        |                  |  (VRID, auth,
//	              +-------------------+                  |   v2 interval)
//	                 | DropError                         | DropError
//	                 v                                   v
//	              Counters.Record  <---------------------+
//
//	   Advert --> Conn.Send(a, dst) --> Marshal(src, dst) --> socket
//	   socket --> Conn.Receive(ctx) --> Packet{Data, Src, Dst, TTL, IfIndex}
//
// The runtime on top of them:
//
//	fsm/         the RFC 5798 state machine with keepalived's additions,
//	             pure (no I/O, no clock)
//	instance.go  InstanceConfig; an instance drives its machine, sends
//	             its adverts, adds and removes its addresses; a unit is
//	             one goroutine running a sync group's instances (they
//	             change state together) or a lone instance
//	router.go    Router: the sockets (one per interface, family, source
//	             and group, demultiplexed by VRID), the units, status,
//	             and Adjust / Fault for track scripts, interfaces and
//	             quorum
//	addr.go      VIPAddresser: virtual addresses through the built-in vip
//	             agent (netlink, gratuitous ARP, unsolicited NA)
//	track_script*.go, track_interface.go, notify.go
//	             keepalived's vrrp_script / track_script, track_interface
//	             (netlink link state) and notify scripts, driving the
//	             Router through Adjust, Fault and WithNotify (Tracking)
//	fromconf.go  a keepalived.conf to InstanceConfigs; Load checks one,
//	             Loaded.Run runs it with its tracking and notify scripts
//	metrics.go   Router.WriteMetrics (Prometheus text format)
//	agent.go     ocf:paceline:vrrp, gated by quorum
//
// README.md records the decisions taken for them.
package vrrp
