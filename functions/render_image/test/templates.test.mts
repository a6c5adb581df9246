import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sizeName } from '../dist/render.mjs';
import { checkTemplate, TemplateError, TEMPLATES } from '../dist/templates.mjs';

const throwsMessage = (fn: () => unknown, re: RegExp): void =>
  assert.throws(fn, (err: unknown) => err instanceof Error && re.test(err.message));
const check = (name: string, props: object, w = 1080, h = 1080) => (): unknown =>
  checkTemplate(name, props, w, h, sizeName);

test('every template declares typed props', () => {
  assert.deepEqual(Object.keys(TEMPLATES).sort(), ['carousel_slide', 'link_preview', 'promo_card', 'quote_card']);
});

test('an unknown template is refused naming the template', () => {
  assert.throws(check('hologram', {}), (err: unknown) => err instanceof TemplateError && /^template: unknown template 'hologram'/.test(err.message));
});

test('bad props are refused naming the prop', () => {
  throwsMessage(check('promo_card', { headline: 'x', price: 'cheap', cta: 'Buy' }), /^props\.price: must be number$/);
  throwsMessage(check('quote_card', { author: 'A' }), /^props\.quote: is required$/);
  throwsMessage(check('quote_card', { quote: 'q', author: 'A', font: 'x' }), /^props\.font: is not a known field$/);
  throwsMessage(check('carousel_slide', { title: 't', index: 4, total: 3 }), /^props\.index: 4 is more than props\.total \(3\)$/);
  throwsMessage(check('quote_card', { quote: 'q', author: 'A', avatar: 'file:///etc/passwd' }), /^props\.avatar: must match pattern/);
});

test('a template refuses sizes it is not made for', () => {
  throwsMessage(check('link_preview', { title: 't', site: 's' }), /^size: link_preview is made for link/);
  assert.doesNotThrow(check('link_preview', { title: 't', site: 's' }, 1200, 630));
});
