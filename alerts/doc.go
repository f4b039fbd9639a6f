// Package alerts runs the configured alert agents on cluster events, as
// Pacemaker does ("Pacemaker Explained", Alerts; "Pacemaker
// Administration", Alert Agents): each node runs the alerts of the events
// it sees — its own resource operations, members joining and being lost,
// fencing results, its own transient attributes — once per recipient,
// with the event in CRM_alert_* environment variables.
//
//	lrm.Completion ─ResourceEvent─┐
//	membership ─────NodeEvent─────┤
//	fencing ────────FencingEvent──┼─▶ Runner.Notify ─Plan(cfg, event)─▶ queue
//	attributes ─────AttributeEvent┘                                      │
//	                                       Run: workers ─proc.Run─▶ agent (timeout,
//	                                            SIGTERM/SIGKILL of its group)
//
// Deciding which events alert and what each agent gets (ResourceEvent,
// Plan, FormatTimestamp) is pure; the Runner only queues and executes.
package alerts
