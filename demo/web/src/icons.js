// The control icons: 24x24 stroked SVG, drawn in the current text colour.
const svg = (body) =>
  `<svg viewBox="0 0 24 24" width="22" height="22" fill="none" stroke="currentColor" stroke-width="1.8" ` +
  `stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">${body}</svg>`;

const micBody = '<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21M8.5 21h7"/>';
const cameraBody = '<rect x="3" y="6.5" width="12.5" height="11" rx="2.5"/><path d="M15.5 10.5 21 7.5v9l-5.5-3z"/>';
const slash = '<path d="M3.5 3.5l17 17"/>';

export const icons = {
  mic: svg(micBody),
  micOff: svg(micBody + slash),
  camera: svg(cameraBody),
  cameraOff: svg(cameraBody + slash),
  chat: svg('<path d="M4.5 5h15a1.5 1.5 0 0 1 1.5 1.5v9a1.5 1.5 0 0 1-1.5 1.5H9l-4.5 3.5V6.5A1.5 1.5 0 0 1 4.5 5z"/>'),
  leave: svg(
    '<path d="M3.2 13.6c4.9-4.1 12.7-4.1 17.6 0 .6.5.6 1.4.1 2l-1.5 1.7c-.4.5-1.2.6-1.8.2l-2.2-1.5' +
      'c-.4-.3-.6-.7-.6-1.2v-1.4c-1.8-.6-3.8-.6-5.6 0v1.4c0 .5-.2.9-.6 1.2l-2.2 1.5c-.6.4-1.4.3-1.8-.2l-1.5-1.7' +
      'c-.5-.6-.5-1.5.1-2z"/>',
  ),
  send: svg('<path d="M4 12 20 4l-5 16-3-6.5z"/><path d="M12 13.5 20 4"/>'),
};
