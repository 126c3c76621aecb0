import { EventEmitter } from 'node:events';

/**
 * A thin typed facade over EventEmitter: parts declare their events as a map of
 * event name to listener arguments, and the compiler checks every emit and listener.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EventMap = Record<string, any[]>;

export class TypedEmitter<E extends EventMap> {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Several observers (device, MQTT, CLI printer) may listen to one part.
    this.emitter.setMaxListeners(50);
  }

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  protected emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    return this.emitter.emit(event, ...args);
  }

  listenerCount<K extends keyof E & string>(event: K): number {
    return this.emitter.listenerCount(event);
  }
}
