// The widget's page (embed.html): its embedding snippet, with this site's address, and the
// button that copies it. A file of its own: the site's Content-Security-Policy runs no inline
// script.

const script = new URL('widget.js', location.href).href;
const snippet = document.getElementById('snippet');
snippet.textContent = `<script type="module" src="${script}"></script>\n<style-transfer style-src="starry-night" size="384"></style-transfer>`;
document.getElementById('copy').addEventListener('click', () => navigator.clipboard.writeText(snippet.textContent));
