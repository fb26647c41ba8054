package property

import "strings"

// Class says why a property looks like one only the server should write.
type Class string

// Classes of server-owned properties, from most to least harmful when a
// client can set them.
const (
	Privilege    Class = "privilege"    // is_admin, role, permissions, scopes
	Ownership    Class = "ownership"    // owner, user_id, tenant_id
	Billing      Class = "billing"      // credits, balance, plan, quota
	Verification Class = "verification" // verified, email_verified, is_active
	Workflow     Class = "workflow"     // status, state, approved
	Metadata     Class = "metadata"     // created_at, version, internal_*, _*
	// ReadOnly is a property the spec marks readOnly, or that reads return
	// and no write declares, whatever its name.
	ReadOnly Class = "read-only"
	// Unknown is the canary: an attribute the API has never seen.
	Unknown Class = "unknown"
	// Key is the property an object is addressed by.
	Key Class = "key"
)

// classNames maps a lower-case, underscore-separated property name to its
// class. Names are compared after normalising camelCase and dashes, so
// "isAdmin", "is-admin" and "is_admin" are one name.
var classNames = map[string]Class{
	"is_admin": Privilege, "admin": Privilege, "is_superuser": Privilege, "superuser": Privilege,
	"is_staff": Privilege, "staff": Privilege, "role": Privilege, "roles": Privilege,
	"permissions": Privilege, "permission": Privilege, "scope": Privilege, "scopes": Privilege,
	"privileges": Privilege, "groups": Privilege, "access_level": Privilege, "user_type": Privilege,

	"owner": Ownership, "owner_id": Ownership, "user_id": Ownership, "account_id": Ownership,
	"tenant": Ownership, "tenant_id": Ownership, "org_id": Ownership, "organization_id": Ownership,
	"created_by": Ownership,

	"credits": Billing, "credit": Billing, "balance": Billing, "plan": Billing, "tier": Billing,
	"quota": Billing, "limit": Billing, "limits": Billing, "price": Billing, "discount": Billing,
	"subscription": Billing,

	"verified": Verification, "is_verified": Verification, "email_verified": Verification,
	"is_active": Verification, "active": Verification, "confirmed": Verification,
	"is_confirmed": Verification, "enabled": Verification, "locked": Verification, "banned": Verification,

	"status": Workflow, "state": Workflow, "approved": Workflow, "is_approved": Workflow,
	"published": Workflow, "is_published": Workflow,

	"created_at": Metadata, "updated_at": Metadata, "created": Metadata, "updated": Metadata,
	"modified_at": Metadata, "deleted_at": Metadata, "version": Metadata, "revision": Metadata,
}

// Classify returns the class of a property name that looks server-owned,
// and false for a name that looks like ordinary client data. Only the last
// segment of a dotted path counts: "profile.settings.role" is a privilege.
func Classify(name string) (Class, bool) {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	n := normalise(name)
	if c, ok := classNames[n]; ok {
		return c, true
	}
	switch {
	case strings.HasPrefix(name, "_") && name != "_id":
		return Metadata, true
	case strings.HasPrefix(n, "internal_"):
		return Metadata, true
	}
	return "", false
}

// normalise turns "isAdmin", "is-admin" and "IS_ADMIN" into "is_admin".
func normalise(name string) string {
	var b strings.Builder
	for i, r := range name {
		switch {
		case r == '-' || r == ' ':
			b.WriteByte('_')
		case r >= 'A' && r <= 'Z':
			if i > 0 && name[i-1] != '_' && name[i-1] != '-' {
				b.WriteByte('_')
			}
			b.WriteRune(r + 'a' - 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// harmful reports whether a client that sets a property of class c gains
// something it should not have: rights, someone else's objects, money, or
// the server's word that it was checked.
func harmful(c Class) bool {
	switch c {
	case Privilege, Ownership, Billing, Verification, Key:
		return true
	}
	return false
}
