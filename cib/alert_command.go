package cib

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// The commands of the alerts section, as pcs's `alert create|update|
// delete` and `alert recipient add|update|remove`. Validate checks the
// result as a whole (path, meta, select, ids).

// CreateAlert adds an alert, with its recipients if it has any.
type CreateAlert struct {
	Alert Alert `json:"alert"`
}

func (*CreateAlert) Type() CommandType { return TypeCreateAlert }

func (ca *CreateAlert) Apply(c *Config) ([]string, error) {
	a := cloneAlerts([]Alert{ca.Alert})[0]
	if err := c.checkNewID(a.ID); err != nil {
		return nil, fmt.Errorf("alert %q: %w", a.ID, err)
	}
	c.Alerts = append(c.Alerts, Alert{ID: a.ID}) // recipients' ids are checked against it too
	for _, r := range a.Recipients {
		if err := c.checkNewID(r.ID); err != nil {
			return nil, fmt.Errorf("alert %q: recipient %q: %w", a.ID, r.ID, err)
		}
		c.Alert(a.ID).Recipients = append(c.Alert(a.ID).Recipients, Recipient{ID: r.ID})
	}
	*c.Alert(a.ID) = a
	return nil, nil
}

// UpdateAlert changes an alert in place: its path and description if
// given, its params and meta by patch, and what it selects (a pointer to
// an empty list restores the default).
type UpdateAlert struct {
	ID               string    `json:"id"`
	Path             string    `json:"path,omitempty"`
	Description      *string   `json:"description,omitempty"`
	Params           Patch     `json:"params,omitzero"`
	Meta             Patch     `json:"meta,omitzero"`
	Select           *[]string `json:"select,omitempty"`
	SelectAttributes *[]string `json:"select-attributes,omitempty"`
}

func (*UpdateAlert) Type() CommandType { return TypeUpdateAlert }

func (u *UpdateAlert) Apply(c *Config) ([]string, error) {
	a := c.Alert(u.ID)
	if a == nil {
		return nil, fmt.Errorf("unknown alert %q", u.ID)
	}
	if u.Path == "" && u.Description == nil && u.Params.IsZero() && u.Meta.IsZero() && u.Select == nil && u.SelectAttributes == nil {
		return nil, fmt.Errorf("alert %q: nothing to change", u.ID)
	}
	if u.Path != "" {
		a.Path = u.Path
	}
	if u.Description != nil {
		a.Description = *u.Description
	}
	a.Params = u.Params.apply(a.Params)
	a.Meta = u.Meta.apply(a.Meta)
	if u.Select != nil {
		a.Select = slices.Clone(*u.Select)
	}
	if u.SelectAttributes != nil {
		a.SelectAttributes = slices.Clone(*u.SelectAttributes)
	}
	return nil, nil
}

// DeleteAlert removes an alert and its recipients.
type DeleteAlert struct {
	ID string `json:"id"`
}

func (*DeleteAlert) Type() CommandType { return TypeDeleteAlert }

func (d *DeleteAlert) Apply(c *Config) ([]string, error) {
	a := c.Alert(d.ID)
	if a == nil {
		if al, r := c.Recipient(d.ID); r != nil {
			return nil, fmt.Errorf("unknown alert %q: it is a recipient of alert %q (remove it with `alert recipient remove`)", d.ID, al.ID)
		}
		return nil, fmt.Errorf("unknown alert %q", d.ID)
	}
	var notes []string
	for _, r := range a.Recipients {
		notes = append(notes, fmt.Sprintf("removed recipient %q", r.ID))
	}
	c.Alerts = slices.DeleteFunc(c.Alerts, func(a Alert) bool { return a.ID == d.ID })
	return notes, nil
}

// AddRecipient adds a recipient to an alert.
type AddRecipient struct {
	Alert     string    `json:"alert"`
	Recipient Recipient `json:"recipient"`
}

func (*AddRecipient) Type() CommandType { return TypeAddRecipient }

func (ar *AddRecipient) Apply(c *Config) ([]string, error) {
	a := c.Alert(ar.Alert)
	if a == nil {
		return nil, fmt.Errorf("recipient %q: unknown alert %q", ar.Recipient.ID, ar.Alert)
	}
	if err := c.checkNewID(ar.Recipient.ID); err != nil {
		return nil, fmt.Errorf("alert %q: recipient %q: %w", ar.Alert, ar.Recipient.ID, err)
	}
	r := ar.Recipient
	r.Params, r.Meta = maps.Clone(r.Params), maps.Clone(r.Meta)
	a.Recipients = append(a.Recipients, r)
	return nil, nil
}

// UpdateRecipient changes a recipient in place: its value and description
// if given, its params and meta by patch.
type UpdateRecipient struct {
	ID          string  `json:"id"`
	Value       string  `json:"value,omitempty"`
	Description *string `json:"description,omitempty"`
	Params      Patch   `json:"params,omitzero"`
	Meta        Patch   `json:"meta,omitzero"`
}

func (*UpdateRecipient) Type() CommandType { return TypeUpdateRecipient }

func (u *UpdateRecipient) Apply(c *Config) ([]string, error) {
	_, r := c.Recipient(u.ID)
	if r == nil {
		return nil, fmt.Errorf("unknown alert recipient %q", u.ID)
	}
	if u.Value == "" && u.Description == nil && u.Params.IsZero() && u.Meta.IsZero() {
		return nil, fmt.Errorf("recipient %q: nothing to change", u.ID)
	}
	if u.Value != "" {
		r.Value = u.Value
	}
	if u.Description != nil {
		r.Description = *u.Description
	}
	r.Params = u.Params.apply(r.Params)
	r.Meta = u.Meta.apply(r.Meta)
	return nil, nil
}

// RemoveRecipient removes a recipient from its alert; the alert stays
// (with no recipient, its agent runs once per event, without one).
type RemoveRecipient struct {
	ID string `json:"id"`
}

func (*RemoveRecipient) Type() CommandType { return TypeRemoveRecipient }

func (rr *RemoveRecipient) Apply(c *Config) ([]string, error) {
	if rr.ID == "" {
		return nil, errors.New("remove recipient: a recipient id is required")
	}
	a, r := c.Recipient(rr.ID)
	if r == nil {
		if c.Alert(rr.ID) != nil {
			return nil, fmt.Errorf("unknown alert recipient %q: it is an alert (delete it with `alert delete`)", rr.ID)
		}
		return nil, fmt.Errorf("unknown alert recipient %q", rr.ID)
	}
	a.Recipients = slices.DeleteFunc(a.Recipients, func(r Recipient) bool { return r.ID == rr.ID })
	if len(a.Recipients) == 0 {
		a.Recipients = nil
		return []string{fmt.Sprintf("alert %q has no recipient left: its agent now runs once per event, without one", a.ID)}, nil
	}
	return nil, nil
}
