// Whether the chat keeps the newest content in view. It follows the conversation until the
// reader scrolls up to read; new content then waits below a "new messages" button instead of
// pulling the page away, and scrolling back to the bottom (or sending a message) follows again.
//
// Only a scroll *up* stops following: content that grows below the view, and the view's own
// scrolling to the bottom (smooth or not), move scrollTop down or leave it, so a long answer
// streaming in never counts as the reader leaving.

export interface FollowState {
  /** Keep the newest content in view. */
  following: boolean
  /** scrollTop at the last scroll event, to tell a scroll up from growth below. */
  lastTop: number
  /** Content arrived while not following: offer to jump to it. */
  unseen: boolean
}

export type FollowEvent =
  /** The view scrolled (by the reader or by us): where it is now. */
  | { type: 'scroll'; top: number; height: number; client: number }
  /** New content was rendered. */
  | { type: 'content' }
  /** The reader asked for the newest content (the button, or sending a message). */
  | { type: 'jump' }

/** NEAR_BOTTOM_PX is how close to the bottom counts as at the bottom. */
export const NEAR_BOTTOM_PX = 48

export const initialFollow: FollowState = { following: true, lastTop: 0, unseen: false }

/** distanceFromBottom is how far the view is above the end of its content. */
export function distanceFromBottom(top: number, height: number, client: number): number {
  return Math.max(0, height - top - client)
}

/** followReducer folds one event into the follow state. */
export function followReducer(s: FollowState, e: FollowEvent): FollowState {
  switch (e.type) {
    case 'scroll': {
      if (distanceFromBottom(e.top, e.height, e.client) <= NEAR_BOTTOM_PX) {
        return { following: true, lastTop: e.top, unseen: false }
      }
      // Sub-pixel jitter is not the reader.
      if (e.top < s.lastTop - 2) return { following: false, lastTop: e.top, unseen: s.unseen }
      return { ...s, lastTop: e.top }
    }
    case 'content':
      return s.following || s.unseen ? s : { ...s, unseen: true }
    case 'jump':
      return { ...s, following: true, unseen: false }
  }
}
