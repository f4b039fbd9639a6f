package cib

import (
	"slices"
	"testing"
)

// The fencing commands' cases (the base configuration has device ipmi
// and level 1 of n1 = [ipmi]).
func fenceCommandCases() []commandCase {
	return []commandCase{
		{name: "stonith/create", cmd: &CreateFenceDevice{Device: FenceDevice{ID: "pdu", Agent: "fence_apc", Params: map[string]string{"ip": "192.0.2.9", "pcmk_host_map": "n1:1;n2:2"}}},
			check: func(t *testing.T, c *Config) {
				if len(c.FenceDevices) != 2 || c.FenceDevices[1].Params["ip"] != "192.0.2.9" {
					t.Errorf("not created: %+v", c.FenceDevices)
				}
			}},
		{name: "stonith/create-duplicate", cmd: &CreateFenceDevice{Device: FenceDevice{ID: "web", Agent: "fence_apc"}}, wantErr: "already", object: "web"},
		{name: "stonith/create-bad-agent", cmd: &CreateFenceDevice{Device: FenceDevice{ID: "x", Agent: "../fence_x"}}, wantErr: "plain name", object: "x"},
		{name: "stonith/update", cmd: &UpdateFenceDevice{ID: "ipmi", Params: Patch{Set: map[string]string{"ip": "192.0.2.10"}}},
			check: func(t *testing.T, c *Config) {
				if c.FenceDevices[0].Params["ip"] != "192.0.2.10" {
					t.Errorf("not updated: %+v", c.FenceDevices)
				}
			}},
		{name: "stonith/update-unknown", cmd: &UpdateFenceDevice{ID: "nope", Params: Patch{Set: map[string]string{"a": "b"}}}, wantErr: "unknown fence device", object: "nope"},
		{name: "stonith/update-nothing", cmd: &UpdateFenceDevice{ID: "ipmi"}, wantErr: "nothing to change", object: "ipmi"},
		{name: "stonith/delete", cmd: &DeleteFenceDevice{ID: "ipmi"}, notes: []string{"removed level 1 of n1 (it had only ipmi)"},
			check: func(t *testing.T, c *Config) {
				if len(c.FenceDevices) != 0 || len(c.FenceLevels) != 0 {
					t.Errorf("not deleted: %+v %+v", c.FenceDevices, c.FenceLevels)
				}
			}},
		{name: "stonith/delete-unknown", cmd: &DeleteFenceDevice{ID: "nope"}, wantErr: "unknown fence device", object: "nope"},
		{name: "stonith/level-add", cmd: &AddFenceLevel{Level: FenceLevel{Target: "n1", Index: 2, Devices: []string{"ipmi"}}},
			check: func(t *testing.T, c *Config) {
				if len(c.FenceLevels) != 2 || !slices.Equal(c.FenceLevels[1].Devices, []string{"ipmi"}) {
					t.Errorf("not added: %+v", c.FenceLevels)
				}
			}},
		{name: "stonith/level-add-taken", cmd: &AddFenceLevel{Level: FenceLevel{Target: "n1", Index: 1, Devices: []string{"ipmi"}}}, wantErr: "already has a fence level 1", object: "n1"},
		{name: "stonith/level-add-unknown-device", cmd: &AddFenceLevel{Level: FenceLevel{Target: "n2", Index: 1, Devices: []string{"nope"}}}, wantErr: `unknown fence device "nope"`},
		{name: "stonith/level-add-bad-index", cmd: &AddFenceLevel{Level: FenceLevel{Target: "n2", Index: 10, Devices: []string{"ipmi"}}}, wantErr: "out of range 1..9"},
		{name: "stonith/level-delete", cmd: &DeleteFenceLevel{Target: "n1", Index: 1},
			check: func(t *testing.T, c *Config) {
				if len(c.FenceLevels) != 0 {
					t.Errorf("not deleted: %+v", c.FenceLevels)
				}
			}},
		{name: "stonith/level-delete-missing", cmd: &DeleteFenceLevel{Target: "n2"}, wantErr: "has no fence levels", object: "n2"},
		// Agents' cluster-wide attributes (crm_attribute --type crm_config).
		{name: "agent-attrs/set", cmd: &SetAgentAttributes{Patch: Patch{Set: map[string]string{"redis_REPL_INFO": "n1"}}},
			check: func(t *testing.T, c *Config) {
				if c.AgentAttributes["redis_REPL_INFO"] != "n1" {
					t.Errorf("not set: %v", c.AgentAttributes)
				}
			}},
		{name: "agent-attrs/bad-name", cmd: &SetAgentAttributes{Patch: Patch{Set: map[string]string{"a b": "1"}}}, wantErr: "must not contain"},
		{name: "agent-attrs/nothing", cmd: &SetAgentAttributes{}, wantErr: "nothing to change"},
	}
}

func fenceSampleCommands() []Command {
	return []Command{
		&SetAgentAttributes{Patch: Patch{Set: map[string]string{"redis_REPL_INFO": "n1"}, Unset: []string{"x"}}},
		&CreateFenceDevice{Device: FenceDevice{ID: "pdu", Agent: "fence_apc", Params: map[string]string{"ip": "192.0.2.9"}, Meta: map[string]string{"target-role": "Stopped"}}},
		&UpdateFenceDevice{ID: "pdu", Params: Patch{Set: map[string]string{"ip": "192.0.2.10"}, Unset: []string{"login"}}},
		&DeleteFenceDevice{ID: "pdu"},
		&AddFenceLevel{Level: FenceLevel{Target: "n1", Index: 2, Devices: []string{"pdu", "ipmi"}}},
		&DeleteFenceLevel{Target: "n1", Index: 2},
	}
}
