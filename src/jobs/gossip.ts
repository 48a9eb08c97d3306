/**
 * jobs/gossip: the jobs topic, the fast path of facts. Every fact gossiped
 * to this peer is verified on its own signature and applied by the topic
 * validator, so a fact is forwarded only once accepted, and a fact accepted
 * here is one every peer accepts when it gets it by sync; a fact that waits
 * to be checked (a `pass` fact whose results are not all here yet) is not
 * forwarded by this peer. A large fact is forwarded FACT_FORWARD_PAUSE_MS
 * after it is accepted, so the peers its author reached first say they
 * have it. This peer's own facts are signed, applied and published here.
 *
 * Never lets an unverified fact through, and never depends on a message
 * arriving: sync carries whatever gossip missed.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { Logger, PrivateKey, Startable } from '@libp2p/interface'
import { GOSSIP_IDONTWANT_MIN_BYTES } from '../node/constants.ts'
import { FACT_FORWARD_PAUSE_MS, JOBS_TOPIC } from './constants.ts'
import { openFact, signFact, type Fact, type SignedFact } from './facts.ts'
import type { JobPubSub } from './components.ts'
import type { FactStore, JobStats } from './fact-store.ts'

export interface FactGossipComponents {
  /** This peer's id: the author of the facts it publishes. */
  peerId: string
  privateKey: PrivateKey
  pubsub: JobPubSub
  store: Pick<FactStore, 'accept'>
  stats: JobStats
  log: Logger
}

export class FactGossip implements Startable {
  private readonly components: FactGossipComponents

  constructor (components: FactGossipComponents) {
    this.components = components
  }

  start (): void {
    const { pubsub, store, stats, log } = this.components
    pubsub.topicValidators.set(JOBS_TOPIC, async (_peer, msg) => {
      try {
        const accepted = await store.accept(await openFact(msg.data), true)
        if (accepted === 'waiting' || accepted === 'collected') return TopicValidatorResult.Ignore
        // forwarded only once the IDONTWANTs of the peers its author reached have come (see FACT_FORWARD_PAUSE_MS)
        if (msg.data.length >= GOSSIP_IDONTWANT_MIN_BYTES) await sleep(FACT_FORWARD_PAUSE_MS)
        return TopicValidatorResult.Accept
      } catch (err) {
        stats.factsRejected++
        log.trace('rejected a gossiped fact: %e', err)
        return TopicValidatorResult.Reject
      }
    })
    pubsub.subscribe(JOBS_TOPIC)
  }

  stop (): void {
    const { pubsub } = this.components
    pubsub.topicValidators.delete(JOBS_TOPIC)
    try { pubsub.unsubscribe(JOBS_TOPIC) } catch {}
  }

  /** Signs, applies and gossips one of this peer's facts (a pass state it computed counts here as checked). */
  async publish (fact: Fact): Promise<SignedFact> {
    const { peerId, privateKey, pubsub, store } = this.components
    const sf = await signFact(privateKey, peerId, fact)
    await store.accept(sf, true, { checked: true })
    try {
      await pubsub.publish(JOBS_TOPIC, sf.envelope)
    } catch {
      // no subscribed peer right now: sync will carry it
    }
    return sf
  }
}
