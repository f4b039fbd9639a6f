#!/bin/sh
# Builds a CIB with Debian's Pacemaker tools (pacemaker-cli-utils 2.1.5),
# offline: CIB_file makes cibadmin and crm_attribute work on a file, with no
# cluster. TestDebianCIB runs it and compares with debian-cib.xml, the
# copy kept here; regenerate that with: sh make-debian-cib.sh debian-cib.xml
set -eu
out=${1:?usage: make-debian-cib.sh OUT.xml}
CIB_file=$(mktemp)
export CIB_file
trap 'rm -f "$CIB_file"' EXIT
cibadmin --empty > "$CIB_file"
crm_attribute --type crm_config --name stonith-enabled --update true
crm_attribute --type crm_config --name no-quorum-policy --update freeze
crm_attribute --type crm_config --name cluster-name --update demo
crm_attribute --type crm_config --name placement-strategy --update utilization
crm_attribute --type crm_config --name dc-version --update 2.1.5-a3f44794f94
crm_attribute --type crm_config --name REPL_INFO --update n1
cibadmin -C -o configuration --xml-text '<rsc_defaults><meta_attributes id="rsc-options"><nvpair id="rsc-options-resource-stickiness" name="resource-stickiness" value="100"/><nvpair id="rsc-options-migration-threshold" name="migration-threshold" value="3"/></meta_attributes></rsc_defaults>'
cibadmin -C -o configuration --xml-text '<op_defaults><meta_attributes id="op-options"><nvpair id="op-options-timeout" name="timeout" value="30s"/></meta_attributes></op_defaults>'
for n in 1 2 3; do
	cibadmin -C -o nodes --xml-text "<node id=\"$n\" uname=\"n$n\"/>"
	crm_attribute --node "n$n" --name cpu --update 8 --utilization
done
crm_attribute --node n1 --name rack --update r1 --lifetime forever
crm_attribute --node n2 --name rack --update r2 --lifetime forever
crm_attribute --node n3 --name standby --update on --lifetime forever
cibadmin -C -o resources --xml-text '<group id="web">
  <primitive id="web-ip" class="ocf" provider="heartbeat" type="IPaddr2">
    <instance_attributes id="web-ip-ia"><nvpair id="web-ip-ip" name="ip" value="192.0.2.10"/><nvpair id="web-ip-cidr" name="cidr_netmask" value="24"/></instance_attributes>
    <operations><op id="web-ip-mon" name="monitor" interval="10s" timeout="20s"/></operations>
  </primitive>
  <primitive id="web-server" class="systemd" type="nginx">
    <operations><op id="web-server-mon" name="monitor" interval="30s" on-fail="restart"><instance_attributes id="web-server-mon-ia"><nvpair id="web-server-mon-cl" name="OCF_CHECK_LEVEL" value="10"/></instance_attributes></op></operations>
    <utilization id="web-server-util"><nvpair id="web-server-util-cpu" name="cpu" value="2"/></utilization>
  </primitive>
</group>'
cibadmin -C -o resources --xml-text '<master id="redis-clone">
  <meta_attributes id="redis-clone-meta"><nvpair id="redis-clone-mm" name="master-max" value="1"/><nvpair id="redis-clone-notify" name="notify" value="true"/></meta_attributes>
  <primitive id="redis" class="ocf" provider="heartbeat" type="redis">
    <operations><op id="redis-mon-m" name="monitor" interval="9s" role="Master"/><op id="redis-mon-s" name="monitor" interval="10s" role="Slave"/></operations>
  </primitive>
</master>'
cibadmin -C -o resources --xml-text '<clone id="ping-clone">
  <meta_attributes id="ping-clone-meta"><nvpair id="ping-clone-interleave" name="interleave" value="true"/></meta_attributes>
  <primitive id="ping" class="ocf" provider="pacemaker" type="ping">
    <instance_attributes id="ping-ia"><nvpair id="ping-host" name="host_list" value="192.0.2.1"/></instance_attributes>
  </primitive>
</clone>'
cibadmin -C -o resources --xml-text '<primitive id="fence-ipmi" class="stonith" type="fence_ipmilan">
  <instance_attributes id="fence-ipmi-ia"><nvpair id="fence-ipmi-ip" name="ip" value="192.0.2.100"/><nvpair id="fence-ipmi-hosts" name="pcmk_host_list" value="n1 n2 n3"/></instance_attributes>
  <operations><op id="fence-ipmi-mon" name="monitor" interval="60s"/></operations>
</primitive>'
cibadmin -C -o constraints --xml-text '<rsc_location id="web-prefers-n1" rsc="web" node="n1" score="50"/>'
cibadmin -C -o constraints --xml-text '<rsc_location id="web-on-connected" rsc="web"><rule id="web-on-connected-rule" score="-INFINITY" boolean-op="or"><expression id="web-oc-e1" attribute="pingd" operation="not_defined"/><expression id="web-oc-e2" attribute="pingd" operation="lte" value="0" type="integer"/></rule></rsc_location>'
cibadmin -C -o constraints --xml-text '<rsc_location id="redis-pingd" rsc="redis-clone" role="Master"><rule id="redis-pingd-rule" score-attribute="pingd"><expression id="redis-pingd-e" attribute="#uname" operation="ne" value="n3"/></rule></rsc_location>'
cibadmin -C -o constraints --xml-text '<rsc_colocation id="web-with-redis" rsc="web" with-rsc="redis-clone" with-rsc-role="Master" score="INFINITY"/>'
cibadmin -C -o constraints --xml-text '<rsc_order id="redis-then-web" first="redis-clone" first-action="promote" then="web" then-action="start" kind="Optional"/>'
cibadmin -C -o constraints --xml-text '<rsc_order id="ping-then-redis" first="ping-clone" then="redis-clone" symmetrical="false"/>'
cibadmin -C -o configuration --xml-text '<fencing-topology><fencing-level id="fl-n1-1" target="n1" index="1" devices="fence-ipmi"/></fencing-topology>'
# A quorate cluster with every node online, so that crm_verify judges the
# configuration, not a cluster that has not started (Import ignores status).
cibadmin -M --xml-text '<cib have-quorum="1"/>'
for n in 1 2 3; do
	cibadmin -C -o status --xml-text "<node_state id=\"$n\" uname=\"n$n\" in_ccm=\"true\" crmd=\"online\" join=\"member\" expected=\"member\"/>"
done
cp "$CIB_file" "$out"
