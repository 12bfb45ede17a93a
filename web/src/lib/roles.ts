// Who may do what, as far as the UI needs to know to show the right buttons. The server
// decides; these only avoid offering actions that would be refused.
import type { ApprovalView } from '../chat/state'
import type { Principal } from '../api/types'
import { humanize } from './result'

/** canDecide says whether the user may approve or reject the request. */
export function canDecide(a: ApprovalView, me: Principal | null | undefined): boolean {
  if (!me || a.status !== 'pending') return false
  const roles = new Set(me.roles ?? [])
  if (!a.approverRoles.some((r) => roles.has(r))) return false
  return a.allowSelfApproval || a.requester !== me.sub
}

/** roleName turns sre_lead into "SRE lead". */
export function roleName(role: string): string {
  return humanize(role)
}

/** rolesInWords lists roles for a sentence: "SRE lead or Admin". */
export function rolesInWords(roles: string[]): string {
  const names = roles.map(roleName)
  if (names.length === 0) return 'an approver'
  if (names.length === 1) return names[0]
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`
}
