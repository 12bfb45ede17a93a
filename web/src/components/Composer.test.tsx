import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { Composer } from './Composer'

describe('Composer', () => {
  it('sends on Enter and keeps Shift+Enter for a new line', async () => {
    const onSend = vi.fn().mockResolvedValue(true)
    render(<Composer onSend={onSend} busy={false} />)
    const box = screen.getByLabelText('Message')
    await userEvent.type(box, 'first line{Shift>}{Enter}{/Shift}second line')
    expect(box).toHaveValue('first line\nsecond line')
    expect(onSend).not.toHaveBeenCalled()
    await userEvent.type(box, '{Enter}')
    expect(onSend).toHaveBeenCalledWith('first line\nsecond line')
    expect(box).toHaveValue('')
  })

  it('keeps the text when sending failed', async () => {
    const onSend = vi.fn().mockResolvedValue(false)
    render(<Composer onSend={onSend} busy={false} />)
    await userEvent.type(screen.getByLabelText('Message'), 'hello{Enter}')
    expect(screen.getByLabelText('Message')).toHaveValue('hello')
  })

  it('offers Stop instead of Send while a turn runs', async () => {
    const onStop = vi.fn()
    render(<Composer onSend={vi.fn()} onStop={onStop} busy />)
    expect(screen.queryByRole('button', { name: 'Send message' })).not.toBeInTheDocument()
    await userEvent.click(screen.getByRole('button', { name: 'Stop the answer' }))
    expect(onStop).toHaveBeenCalled()
  })
})
