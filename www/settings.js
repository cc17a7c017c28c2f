// The settings of a run: the Quality menu, size, steps, look, style strength and colours.
// Their presets, looks, defaults (the memory budget, larger pictures running tile by tile, is the
// device's) and limits are the engine's (stylizer.presets, .defaults, .limits): shown once
// the engine is ready, and read back as engine options.

const $ = (id) => document.getElementById(id);

/** How often the canvas is redrawn during a run, in steps. */
export const PREVIEW_EVERY = 2;

/** The engine options of the settings shown; the engine's defaults fill in the rest. */
export function readOptions(stylizer) {
  const strength = 2 ** Number($('strength').value);
  return {
    size: Number($('size').value),
    iterations: Number($('iterations').value),
    // The look sets how much of the photo is kept; the slider scales the engine's default
    // style weight, up or down, from there.
    contentWeight: stylizer.looks.find((l) => l.name === $('look').value)?.contentWeight,
    styleWeight: stylizer.defaults.styleWeight * strength,
    // The first picture comes from the feed-forward network (the engine's default start);
    // below the middle of the strength slider it takes less of the paintings' style too.
    fastStrength: Math.min(1, strength),
    // `?memoryBudget=` overrides the device's.
    memoryBudget: Number(new URLSearchParams(location.search).get('memoryBudget')) || undefined,
    colors: $('colors').value,
    previewEvery: PREVIEW_EVERY,
  };
}

/** The engine's presets in the Quality menu, its limits on the inputs, its defaults in them. */
export function showSettings({ presets, looks, limits, defaults }) {
  for (const preset of presets) {
    const option = $('preset').querySelector(`option[value="${preset.name}"]`);
    const name = preset.name[0].toUpperCase() + preset.name.slice(1);
    const what = preset.iterations ? `${preset.iterations} steps` : 'one pass of a fast network';
    option.textContent = `${name} (${preset.size} px, ${what})`;
  }
  Object.assign($('size'), { min: limits.minSize, max: limits.maxSize, value: defaults.size });
  Object.assign($('iterations'), { min: 0, max: limits.maxIterations, value: defaults.iterations });
  const matching = presets.find((p) => p.size === defaults.size && p.iterations === defaults.iterations);
  $('preset').value = matching?.name ?? 'custom';
  $('colors').value = defaults.colors;
  showColorsHint();
  $('look').value = looks.find((l) => l.contentWeight === defaults.contentWeight)?.name ?? looks[0].name;
}

/** What each colour mode does (the engine's `colors`, Gatys et al. 2017). */
const COLORS_HINTS = {
  painting: 'The painting\'s colours and strokes.',
  photo: 'Painted as usual, then given back the photo\'s colours.',
  luminance: 'Only light and dark are painted; the colours stay the photo\'s.',
  match: 'The painting is recoloured with the photo\'s palette first, then painted with.',
};

function showColorsHint() {
  $('colors-hint').textContent = COLORS_HINTS[$('colors').value];
}

/** The inputs follow the Quality menu, the menu says Custom once they are edited; `onChange` after either. */
export function wireSettings(stylizer, onChange) {
  $('preset').addEventListener('change', () => {
    const preset = stylizer()?.presets.find((p) => p.name === $('preset').value);
    if (!preset) return;
    $('size').value = preset.size;
    $('iterations').value = preset.iterations;
    onChange();
  });
  for (const id of ['size', 'iterations']) {
    $(id).addEventListener('input', () => {
      $('preset').value = 'custom';
      onChange();
    });
  }
  $('colors').addEventListener('change', showColorsHint);
}
