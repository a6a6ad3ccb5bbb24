import { deadLetterTopic, eventDefinition, eventDefinitions } from './catalog';
import type { EventType } from './generated/events';

export const DEFAULT_TOPIC_PREFIX = 'tally.';

export interface TopicNames {
  readonly prefix: string;
  topicFor(type: EventType): string;
  /** Confluent TopicNameStrategy subject of the topic's value schema. */
  subjectFor(type: EventType): string;
  eventTypeFor(topic: string): EventType | undefined;
  readonly deadLetter: string;
  readonly eventTopics: readonly string[];
}

/**
 * The catalog's topic names (`tally.<type>`) under another prefix. Production keeps `tally.`; a
 * second environment on the same cluster, or a test that must not read the shared topics, sets
 * TOPIC_PREFIX and gets its own topics and registry subjects.
 */
export function topicNames(prefix: string = DEFAULT_TOPIC_PREFIX): TopicNames {
  const rename = (catalogTopic: string) => prefix + catalogTopic.replace(/^tally\./, '');
  const byTopic = new Map(eventDefinitions().map((d) => [rename(d.topic), d.type]));
  return {
    prefix,
    topicFor: (type) => rename(eventDefinition(type).topic),
    subjectFor: (type) => `${rename(eventDefinition(type).topic)}-value`,
    eventTypeFor: (topic) => byTopic.get(topic),
    deadLetter: rename(deadLetterTopic().topic),
    eventTopics: [...byTopic.keys()],
  };
}
