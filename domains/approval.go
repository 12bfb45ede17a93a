package domains

// Approval is a tool's human-approval policy. A tool needs approval when its annotations say
// requires_approval, or when it has an approval block, and then only when When holds.
type Approval struct {
	// When is a CEL expression over the call's arguments (args) and the requester (user, with
	// user.id and user.roles); empty means always. Example:
	// `args.replicas > 5 || args.namespace == "production"`.
	When string `yaml:"when" json:"when,omitempty"`
	// Approvers are the roles that may decide; empty means every role granted the approve
	// action on the tool by the domain's permissions (and admins).
	Approvers []string `yaml:"approvers" json:"approvers,omitempty"`
	// AllowSelfApproval lets the requester approve their own call; by default another person
	// must (four eyes).
	AllowSelfApproval bool `yaml:"allow_self_approval" json:"allow_self_approval,omitempty"`
	// Timeout is how long the request waits before it expires.
	Timeout Duration `yaml:"timeout" json:"timeout,omitempty"`
	// Reason is shown to approvers.
	Reason string `yaml:"reason" json:"reason,omitempty"`
}
