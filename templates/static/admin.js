// A little help on the owner's pages, which work without it: copy buttons, a Markdown preview
// for articles, and dropping a file on the upload form.
'use strict';
(() => {
  for (const b of document.querySelectorAll('button.copy[data-copy]')) {
    b.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(b.dataset.copy);
        b.textContent = 'Copied';
      } catch (e) {
        b.previousElementSibling.select();
      }
    });
  }
  const md = document.querySelector('textarea[name$="[markdown]"]');
  const preview = document.getElementById('md-preview');
  if (md && preview && window.marked && window.DOMPurify) {
    const render = () => {
      preview.innerHTML = window.DOMPurify.sanitize(window.marked.parse(md.value, { gfm: true }));
      preview.hidden = md.value.trim() === '';
    };
    md.addEventListener('input', render);
    render();
  }
  const upload = document.getElementById('upload');
  if (upload) {
    const input = upload.querySelector('input[type=file]');
    upload.addEventListener('dragover', (e) => { e.preventDefault(); upload.classList.add('dragging'); });
    upload.addEventListener('dragleave', () => upload.classList.remove('dragging'));
    upload.addEventListener('drop', (e) => {
      e.preventDefault();
      upload.classList.remove('dragging');
      if (e.dataTransfer.files.length) input.files = e.dataTransfer.files;
    });
  }
})();
