/**
 * Fooocus takes no free width and height: `aspect_ratios_selection` names one entry of its
 * list, written `W*H` (with `*`, not `x`). The default list is SDXL's, from Fooocus
 * `modules/config.py` (`available_aspect_ratios`); a server configured with another list is
 * matched with the provider's `aspect_ratios` option.
 */
export const FOOOCUS_ASPECT_RATIOS: readonly string[] = [
  '704*1408', '704*1344', '768*1344', '768*1280', '832*1216', '832*1152',
  '896*1152', '896*1088', '960*1088', '960*1024', '1024*1024', '1024*960',
  '1088*960', '1088*896', '1152*896', '1152*832', '1216*832', '1280*768',
  '1344*768', '1344*704', '1408*704', '1472*704', '1536*640', '1600*640',
  '1664*576', '1728*576',
];

const RATIO = /^\s*(\d+)\s*[*×x]\s*(\d+)\s*$/;

/** `"896*1152"` as numbers; undefined for anything else. Fooocus's UI spelling `896×1152` is accepted too. */
export function parseAspectRatio(text: string): { width: number; height: number } | undefined {
  const match = RATIO.exec(text);
  if (!match) return undefined;
  const width = Number(match[1]);
  const height = Number(match[2]);
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/**
 * The entry whose shape is nearest the frame's, compared on the log of the ratio so that
 * "a bit too wide" and "a bit too tall" weigh the same. Ties go to the larger picture.
 * Returned in Fooocus's own `W*H` spelling.
 */
export function aspectRatioForFrame(frameWidth: number, frameHeight: number, choices: readonly string[] = FOOOCUS_ASPECT_RATIOS): string {
  const target = Math.log(frameWidth / frameHeight);
  let best: { text: string; distance: number; area: number } | undefined;
  for (const choice of choices) {
    const size = parseAspectRatio(choice);
    if (!size) continue;
    const distance = Math.abs(Math.log(size.width / size.height) - target);
    const area = size.width * size.height;
    if (!best || distance < best.distance - 1e-9 || (Math.abs(distance - best.distance) <= 1e-9 && area > best.area)) {
      best = { text: `${size.width}*${size.height}`, distance, area };
    }
  }
  if (!best) throw new RangeError('no aspect ratio to choose from');
  return best.text;
}
