// The preset paintings: public-domain works shipped with the app (www/gallery/, provenance in
// its README), so a visitor can try it without a painting of their own.

/** Each painting: an id (also the widget's `style-src` preset name), its file and credit. */
export const PAINTINGS = Object.freeze([
  { id: 'starry-night', file: 'starry_night.jpg', title: 'The Starry Night', artist: 'Vincent van Gogh', year: '1889' },
  { id: 'the-scream', file: 'the_scream.jpg', title: 'The Scream', artist: 'Edvard Munch', year: '1893' },
  { id: 'shipwreck', file: 'shipwreck.jpg', title: 'The Shipwreck', artist: 'J. M. W. Turner', year: 'c. 1805' },
  { id: 'great-wave', file: 'great_wave.jpg', title: 'The Great Wave off Kanagawa', artist: 'Katsushika Hokusai', year: 'c. 1831' },
  { id: 'udnie', file: 'udnie.jpg', title: 'Udnie', artist: 'Francis Picabia', year: '1913' },
]);

/** The painting's file, resolved against this script (so it works from any host page). */
export function paintingUrl(painting) {
  return new URL(`gallery/${painting.file}`, import.meta.url).href;
}

/** The preset named `id`, or undefined. */
export function preset(id) {
  return PAINTINGS.find((p) => p.id === id);
}

/** "Vincent van Gogh, 1889, public domain". */
export function credit(painting) {
  return `${painting.artist}, ${painting.year}, public domain`;
}
