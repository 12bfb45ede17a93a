import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { ApprovalView } from '../chat/state'
import { ApprovalCard } from './ApprovalCard'

const carol = { sub: 'carol', name: 'Carol Diaz', roles: ['sre', 'employee'] }
const dan = { sub: 'dan', name: 'Dan Okafor', roles: ['sre_lead', 'sre', 'employee'] }

const pending: ApprovalView = {
  id: 'apr-bcb9d95e8edb8976',
  tool: 'devops.scale_deployment',
  domain: 'devops',
  arguments: { deployment_name: 'api-server', replicas: 3 },
  argsHash: 'a68e',
  reason: 'devops.scale_deployment changes a business system',
  approverRoles: ['admin', 'sre_lead'],
  allowSelfApproval: false,
  requester: 'carol',
  requestedAt: new Date().toISOString(),
  expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
  status: 'pending',
}

describe('ApprovalCard', () => {
  it('tells the requester whom it waits for, without buttons', () => {
    render(<ApprovalCard approval={pending} me={carol} onDecide={vi.fn()} />)
    expect(screen.getByRole('status')).toHaveTextContent('Waiting for approval by Admin or SRE lead')
    expect(screen.queryByRole('button', { name: 'Approve' })).not.toBeInTheDocument()
    expect(screen.getByText(/Requested by/)).toHaveTextContent('Requested by you')
  })

  it('does not let a requester approve their own call unless the policy allows it', () => {
    const lead = { ...dan, sub: 'carol' }
    const { rerender } = render(<ApprovalCard approval={pending} me={lead} onDecide={vi.fn()} />)
    expect(screen.queryByRole('button', { name: 'Approve' })).not.toBeInTheDocument()
    rerender(<ApprovalCard approval={{ ...pending, allowSelfApproval: true }} me={lead} onDecide={vi.fn()} />)
    expect(screen.getByRole('button', { name: 'Approve' })).toBeInTheDocument()
  })

  it('lets an approver approve with a comment', async () => {
    const onDecide = vi.fn().mockResolvedValue(undefined)
    render(<ApprovalCard approval={pending} me={dan} onDecide={onDecide} showCall />)
    expect(screen.getByText('devops.scale_deployment')).toBeInTheDocument()
    expect(screen.getByRole('rowheader', { name: 'Replicas' })).toBeInTheDocument()
    await userEvent.type(screen.getByLabelText('Comment (optional)'), 'capacity for the launch')
    await userEvent.click(screen.getByRole('button', { name: 'Approve' }))
    expect(onDecide).toHaveBeenCalledWith(pending, 'approve', 'capacity for the launch')
  })

  it('lets an approver reject, and shows why a decision failed', async () => {
    const onDecide = vi.fn().mockRejectedValue(new Error('This request can no longer be decided: it expired'))
    render(<ApprovalCard approval={pending} me={dan} onDecide={onDecide} />)
    await userEvent.click(screen.getByRole('button', { name: 'Reject' }))
    expect(onDecide).toHaveBeenCalledWith(pending, 'reject', '')
    expect(await screen.findByRole('alert')).toHaveTextContent('This request can no longer be decided: it expired')
    expect(screen.getByRole('button', { name: 'Reject' })).toBeEnabled()
  })

  it('shows every argument, the defaults the tool will use, and what it will do', () => {
    const tool = {
      name: 'devops.scale_deployment',
      mcp_name: 'devops__scale_deployment',
      domain: 'devops',
      available: true,
      annotations: {},
      description: 'Set the number of replicas of a Kubernetes deployment (0 to 50; 0 stops it). Pods are started or terminated.',
      input_schema: { type: 'object', properties: { deployment_name: {}, replicas: {}, namespace: { type: 'string', default: 'production' } } },
    } as unknown as import('../api/types').ToolInfo
    render(<ApprovalCard approval={pending} me={dan} onDecide={vi.fn()} tool={tool} />)
    const args = screen.getByRole('table', { name: 'Arguments of devops.scale_deployment' })
    expect(args).toHaveTextContent('Deployment name')
    expect(screen.getByRole('row', { name: /^Namespace/ })).toHaveTextContent('production (default')
    expect(screen.getByText(/What it will do:/).parentElement).toHaveTextContent(
      'What it will do: Set the number of replicas of a Kubernetes deployment (0 to 50; 0 stops it).',
    )
  })

  it('shows the decision once made', () => {
    render(<ApprovalCard approval={{ ...pending, status: 'approved', approver: 'dan', comment: 'go' }} me={carol} />)
    expect(screen.getByRole('region', { name: /Approved/ })).toHaveTextContent('Approved by dan: “go”')
    expect(screen.queryByRole('button')).not.toBeInTheDocument()
  })
})
