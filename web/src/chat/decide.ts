// Sends an approval decision, quoting the arguments' fingerprint so the server can refuse a
// decision about arguments other than the ones shown.
import { ApiError, must, type Api } from '../api/client'
import type { ApprovalStatus, ApprovalView } from './state'
import type { Decision } from '../components/ApprovalCard'

export async function sendDecision(api: Api, a: ApprovalView, decision: Decision, comment: string): Promise<ApprovalStatus> {
  try {
    const r = await must(
      api.POST('/approvals/{id}/decision', {
        params: { path: { id: a.id } },
        body: { decision, comment: comment || undefined, args_hash: a.argsHash },
      }),
    )
    const s = r.status
    return s === 'approved' || s === 'rejected' || s === 'expired' || s === 'cancelled' ? s : decision === 'approve' ? 'approved' : 'rejected'
  } catch (e) {
    if (e instanceof ApiError) {
      if (e.status === 409) throw new Error(`This request can no longer be decided: ${e.message}`)
      if (e.status === 403) throw new Error(`You may not decide this request: ${e.message}`)
    }
    throw e
  }
}
