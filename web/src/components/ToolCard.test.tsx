import { render, screen } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import type { ToolCallView } from '../chat/state'
import { ToolCard } from './ToolCard'

const alice = { sub: 'alice', name: 'Alice Martin', roles: ['hr_manager'] }

function call(over: Partial<ToolCallView>): ToolCallView {
  return { key: '1:c', id: 'c', step: 1, tool: 'hr.get_employee', domain: 'hr', arguments: { employee_id: 'E001' }, status: 'running', ...over }
}

describe('ToolCard', () => {
  it('shows domain, tool, arguments and a running status', () => {
    render(<ToolCard call={call({})} me={alice} />)
    const card = screen.getByRole('article', { name: 'Tool call hr.get_employee: Running' })
    expect(card).toHaveTextContent('hr')
    expect(card).toHaveTextContent('hr.get_employee')
    expect(screen.getByRole('rowheader', { name: 'Employee ID' })).toBeInTheDocument()
    expect(screen.getByText('E001')).toBeInTheDocument()
  })

  it('shows a finished call with its duration and the result as a table', () => {
    render(<ToolCard call={call({ status: 'ok', durationMs: 69, output: [{ id: 'E001', name: 'Sarah Johnson' }] })} me={alice} />)
    expect(screen.getByRole('article', { name: 'Tool call hr.get_employee: OK' })).toBeInTheDocument()
    expect(screen.getByText('69 ms')).toBeInTheDocument()
    expect(screen.getByRole('columnheader', { name: 'Name' })).toBeInTheDocument()
    expect(screen.getByRole('cell', { name: 'Sarah Johnson' })).toBeInTheDocument()
  })

  it('shows the viewer what they may see, and says when values were hidden from them', () => {
    const { rerender } = render(<ToolCard call={call({ status: 'ok', output: { name: 'Sarah Johnson', salary: 320000 } })} me={alice} />)
    expect(screen.getByRole('row', { name: /Salary/ })).toHaveTextContent('320000')
    expect(screen.queryByText(/hidden because your role/)).not.toBeInTheDocument()
    rerender(<ToolCard call={call({ status: 'ok', output: { name: 'Sarah Johnson', salary: '[REDACTED]' }, redacted: true })} me={alice} />)
    expect(screen.getByRole('row', { name: /Salary/ })).toHaveTextContent('redacted')
    expect(screen.getByText('Some values are hidden because your role may not see them.')).toBeInTheDocument()
  })

  it('shows the trace ID of the call when it has one', () => {
    const { rerender } = render(<ToolCard call={call({ status: 'ok', output: {} })} me={alice} />)
    expect(screen.queryByText(/^Trace/)).not.toBeInTheDocument()
    rerender(<ToolCard call={call({ status: 'ok', output: {}, traceId: '5b8efff798038103d269b633813fc60c' })} me={alice} />)
    const card = screen.getByRole('article', { name: 'Tool call hr.get_employee: OK' })
    expect(card).toHaveTextContent('Trace 5b8efff798038103d269b633813fc60c')
  })

  it('shows the content blocks of an MCP tool: text, the image, audio, links and embedded resources', () => {
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='
    render(
      <ToolCard
        call={call({
          tool: 'everything.get_tiny_image',
          domain: 'everything',
          status: 'ok',
          output: null,
          content: [
            { type: 'text', text: "Here's the image you requested:" },
            { type: 'image', data: png, mimeType: 'image/png', annotations: { priority: 1 } },
            { type: 'audio', data: 'UklGRg==', mimeType: 'audio/wav' },
            { type: 'resource_link', uri: 'https://example.com/r/1', name: 'r1', title: 'Resource 1', description: 'The first' },
            { type: 'resource_link', uri: 'javascript:alert(1)', name: 'bad' },
            { type: 'resource', resource: { uri: 'demo://resource/2', mimeType: 'text/plain', text: 'Resource 2 text' } },
          ],
        })}
        me={alice}
      />,
    )
    expect(screen.getByText("Here's the image you requested:")).toBeInTheDocument()
    const img = screen.getByRole('img', { name: 'Image from everything.get_tiny_image (image/png)' })
    expect(img).toHaveAttribute('src', `data:image/png;base64,${png}`)
    expect(screen.getByLabelText('Audio from everything.get_tiny_image (audio/wav)')).toHaveAttribute('src', 'data:audio/wav;base64,UklGRg==')
    const link = screen.getByRole('link', { name: 'Resource 1' })
    expect(link).toHaveAttribute('href', 'https://example.com/r/1')
    expect(link).toHaveAttribute('rel', 'noopener noreferrer')
    expect(screen.queryByRole('link', { name: /bad|javascript/ })).not.toBeInTheDocument()
    expect(screen.getByText('javascript:alert(1)')).toBeInTheDocument()
    expect(screen.getByText('Resource 2 text')).toBeInTheDocument()
  })

  it('says when the outcome of a call is unknown', () => {
    render(<ToolCard call={call({ tool: 'notes.append_note', domain: 'notes', status: 'error', errorType: 'outcome_unknown', error: 'check in notes whether it took effect' })} me={alice} />)
    expect(screen.getByRole('article', { name: 'Tool call notes.append_note: Outcome unknown' })).toHaveTextContent(
      'It is not known whether this call took effect: it may have reached NOTES, and it was not sent again. Check in notes whether it took effect.',
    )
  })

  it('does not render an image block of another media type as an image', () => {
    render(<ToolCard call={call({ status: 'ok', content: [{ type: 'image', data: 'PHN2Zz4=', mimeType: 'text/html' }] })} me={alice} />)
    expect(screen.queryByRole('img')).not.toBeInTheDocument()
    expect(screen.getByText('An image (text/html) that cannot be shown.')).toBeInTheDocument()
  })

  it('explains a denial in plain words', () => {
    render(<ToolCard call={call({ status: 'denied', error: 'bob may not call hr.get_employee' })} me={alice} />)
    expect(screen.getByRole('alert')).toHaveTextContent(
      'You are not allowed to use hr.get_employee, so it did not run. Bob may not call hr.get_employee.',
    )
    expect(screen.getByRole('article', { name: 'Tool call hr.get_employee: Denied' })).toBeInTheDocument()
  })

  it('explains errors by type', () => {
    render(<ToolCard call={call({ status: 'error', errorType: 'not_found', error: 'no employee E999' })} me={alice} />)
    expect(screen.getByRole('article', { name: 'Tool call hr.get_employee: Not found' })).toHaveTextContent(
      'Nothing was found. No employee E999.',
    )
  })

  it('explains a rejection with the approver and comment', () => {
    render(
      <ToolCard
        call={call({
          status: 'rejected',
          approval: {
            id: 'apr-1', tool: 'hr.get_employee', arguments: {}, argsHash: 'h', approverRoles: ['sre_lead'], allowSelfApproval: false,
            status: 'rejected', approver: 'dan', comment: 'not now',
          },
        })}
        me={alice}
      />,
    )
    expect(screen.getByText('dan rejected this request, so it did not run. They said: “not now”.')).toBeInTheDocument()
  })

  it('explains an expiry', () => {
    render(<ToolCard call={call({ status: 'expired' })} me={alice} />)
    expect(screen.getByText('Nobody approved this request in time, so it did not run.')).toBeInTheDocument()
  })
})

describe('ToolCard after an approval', () => {
  it('names the approver and their comment instead of the approval form', () => {
    render(
      <ToolCard
        call={call({
          tool: 'devops.scale_deployment',
          domain: 'devops',
          status: 'ok',
          approver: 'dan',
          output: { replicas: 3 },
          approval: {
            id: 'apr-1', tool: 'devops.scale_deployment', arguments: {}, argsHash: 'h', approverRoles: ['sre_lead'], allowSelfApproval: false,
            status: 'approved', approver: 'dan', comment: 'for the launch',
          },
        })}
        me={alice}
      />,
    )
    expect(screen.getByText(/Approved by dan/)).toHaveTextContent('Approved by dan: “for the launch”')
    expect(screen.queryByRole('region', { name: /Approval request/ })).not.toBeInTheDocument()
  })
})
