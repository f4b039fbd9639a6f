package cib

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The commands of fencing, as pcs's `stonith create|update|delete` and
// `stonith level add|delete`. Validate checks the result as a whole
// (agent names, parameters, levels naming existing devices).

// CreateFenceDevice adds a fence device.
type CreateFenceDevice struct {
	Device FenceDevice `json:"device"`
}

func (*CreateFenceDevice) Type() CommandType { return TypeCreateFenceDevice }

func (cf *CreateFenceDevice) Apply(c *Config) ([]string, error) {
	if err := c.checkNewID(cf.Device.ID); err != nil {
		return nil, fmt.Errorf("fence device %q: %w", cf.Device.ID, err)
	}
	d := cf.Device
	d.Params, d.Meta = maps.Clone(d.Params), maps.Clone(d.Meta)
	c.FenceDevices = append(c.FenceDevices, d)
	return nil, nil
}

// UpdateFenceDevice patches a device's parameters and meta attributes.
type UpdateFenceDevice struct {
	ID     string `json:"id"`
	Params Patch  `json:"params,omitzero"`
	Meta   Patch  `json:"meta,omitzero"`
}

func (*UpdateFenceDevice) Type() CommandType { return TypeUpdateFenceDevice }

func (u *UpdateFenceDevice) Apply(c *Config) ([]string, error) {
	i := slices.IndexFunc(c.FenceDevices, func(d FenceDevice) bool { return d.ID == u.ID })
	if i < 0 {
		return nil, fmt.Errorf("unknown fence device %q", u.ID)
	}
	if u.Params.IsZero() && u.Meta.IsZero() {
		return nil, fmt.Errorf("fence device %q: nothing to change", u.ID)
	}
	d := &c.FenceDevices[i]
	d.Params, d.Meta = u.Params.apply(maps.Clone(d.Params)), u.Meta.apply(maps.Clone(d.Meta))
	return nil, nil
}

// DeleteFenceDevice removes a device, and it from every level (a level
// left empty goes too: the notes say which).
type DeleteFenceDevice struct {
	ID string `json:"id"`
}

func (*DeleteFenceDevice) Type() CommandType { return TypeDeleteFenceDevice }

func (d *DeleteFenceDevice) Apply(c *Config) ([]string, error) {
	i := slices.IndexFunc(c.FenceDevices, func(f FenceDevice) bool { return f.ID == d.ID })
	if i < 0 {
		return nil, fmt.Errorf("unknown fence device %q", d.ID)
	}
	c.FenceDevices = slices.Delete(slices.Clone(c.FenceDevices), i, i+1)
	var notes []string
	var levels []FenceLevel
	for _, l := range c.FenceLevels {
		if !slices.Contains(l.Devices, d.ID) {
			levels = append(levels, l)
			continue
		}
		l.Devices = slices.DeleteFunc(slices.Clone(l.Devices), func(x string) bool { return x == d.ID })
		if len(l.Devices) == 0 {
			notes = append(notes, fmt.Sprintf("removed level %d of %s (it had only %s)", l.Index, l.Target, d.ID))
			continue
		}
		notes = append(notes, fmt.Sprintf("removed %s from level %d of %s", d.ID, l.Index, l.Target))
		levels = append(levels, l)
	}
	c.FenceLevels = levels
	return notes, nil
}

// AddFenceLevel adds a topology level: node target is fenced at this
// level by all of the devices.
type AddFenceLevel struct {
	Level FenceLevel `json:"level"`
}

func (*AddFenceLevel) Type() CommandType { return TypeAddFenceLevel }

func (a *AddFenceLevel) Apply(c *Config) ([]string, error) {
	for _, l := range c.FenceLevels {
		if strings.EqualFold(l.Target, a.Level.Target) && l.Index == a.Level.Index {
			return nil, fmt.Errorf("node %q already has a fence level %d (delete it first)", l.Target, l.Index)
		}
	}
	l := a.Level
	l.Devices = slices.Clone(l.Devices)
	c.FenceLevels = append(slices.Clone(c.FenceLevels), l)
	return nil, nil
}

// DeleteFenceLevel removes a node's level (Index 0: all its levels).
type DeleteFenceLevel struct {
	Target string `json:"target"`
	Index  int    `json:"index,omitempty"`
}

func (*DeleteFenceLevel) Type() CommandType { return TypeDeleteFenceLevel }

func (d *DeleteFenceLevel) Apply(c *Config) ([]string, error) {
	n := len(c.FenceLevels)
	c.FenceLevels = slices.DeleteFunc(slices.Clone(c.FenceLevels), func(l FenceLevel) bool {
		return strings.EqualFold(l.Target, d.Target) && (d.Index == 0 || l.Index == d.Index)
	})
	if len(c.FenceLevels) == n {
		if d.Index == 0 {
			return nil, fmt.Errorf("node %q has no fence levels", d.Target)
		}
		return nil, fmt.Errorf("node %q has no fence level %d", d.Target, d.Index)
	}
	return nil, nil
}
