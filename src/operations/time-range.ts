/**
 * Daily time ranges ("22:00" to "07:30"), in the server's local time zone. Bounds are
 * inclusive, to the second; a range whose start is after its end crosses midnight.
 */
export interface TimeRange {
  /** Seconds since local midnight. */
  readonly start: number;
  readonly end: number;
}

const TIME = /^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;

/** Parses "HH:MM" or "HH:MM:SS" into seconds since midnight, or undefined when malformed. */
export function parseTimeOfDay(text: string): number | undefined {
  const match = TIME.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3] ?? 0);
}

export function secondsOfDay(date: Date): number {
  return date.getHours() * 3600 + date.getMinutes() * 60 + date.getSeconds();
}

export function inRange(range: TimeRange, date: Date): boolean {
  const t = secondsOfDay(date);
  return range.start <= range.end ? t >= range.start && t <= range.end : t >= range.start || t <= range.end;
}

/** The end of the range that contains `date`, as a date (for "not before 07:30"). */
export function rangeEnd(range: TimeRange, date: Date): Date {
  const end = new Date(date.getTime());
  end.setHours(0, 0, 0, 0);
  end.setSeconds(range.end + 1);
  if (end.getTime() <= date.getTime()) end.setDate(end.getDate() + 1);
  return end;
}

export function formatTimeOfDay(seconds: number): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}${seconds % 60 ? `:${pad(seconds % 60)}` : ''}`;
}
