import { describe, expect, it } from 'vitest'
import { callArguments, toolEffect } from './args'

const scaleSchema = {
  type: 'object',
  properties: {
    deployment_name: { type: 'string', description: 'Name of the deployment.' },
    replicas: { type: 'integer' },
    namespace: { type: 'string', default: 'production', description: 'Namespace of the deployment.' },
  },
}

describe('callArguments', () => {
  it('lists the given arguments, then the defaults the call leaves to the tool', () => {
    expect(callArguments({ deployment_name: 'api-server', replicas: 3 }, scaleSchema)).toEqual([
      { name: 'deployment_name', value: 'api-server', isDefault: false, description: 'Name of the deployment.' },
      { name: 'replicas', value: 3, isDefault: false, description: undefined },
      { name: 'namespace', value: 'production', isDefault: true, description: 'Namespace of the deployment.' },
    ])
  })

  it('does not add a default the call gave', () => {
    expect(callArguments({ deployment_name: 'web', replicas: 1, namespace: 'staging' }, scaleSchema).map((a) => a.isDefault)).toEqual([false, false, false])
  })

  it('works without a schema', () => {
    expect(callArguments({ a: 1 })).toEqual([{ name: 'a', value: 1, isDefault: false, description: undefined }])
  })
})

describe('toolEffect', () => {
  it('is the first sentence of the description', () => {
    expect(toolEffect({ description: 'Set the number of replicas of a deployment (0 to 50; 0 stops it). Pods are started.' })).toBe(
      'Set the number of replicas of a deployment (0 to 50; 0 stops it).',
    )
    expect(toolEffect(undefined)).toBe('')
  })
})
