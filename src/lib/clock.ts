/** The time source. Tests replace `now` to move time without sleeping (event windows, schedules). */
export interface Clock { now(): Date }
export const systemClock: Clock = { now: () => new Date() };

export class FakeClock implements Clock {
  constructor(private t = new Date()) {}
  now() { return new Date(this.t); }
  set(t: Date | string) { this.t = new Date(t); }
  advance(ms: number) { this.t = new Date(this.t.getTime() + ms); }
}
