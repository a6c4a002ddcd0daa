/** Writes pixel `i` of RGBA data as white blended towards `to` by t ∈ [0, 1] (the canvas charts' colour ramps). */
export function rampPixel(data: Uint8ClampedArray, i: number, t: number, to: readonly [number, number, number]): void {
  data[4 * i] = Math.round(255 - (255 - to[0]) * t);
  data[4 * i + 1] = Math.round(255 - (255 - to[1]) * t);
  data[4 * i + 2] = Math.round(255 - (255 - to[2]) * t);
  data[4 * i + 3] = 255;
}
