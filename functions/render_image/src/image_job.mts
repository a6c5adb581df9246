// Render one image: checkpoint hit -> done; else validate props, fetch, draw, upload.
import { KINDS } from './contract.mjs';
import { renderCard, sizeName } from './render.mjs';
import type { Assets } from './assets.mjs';
import type { ImageRequest, ImageResult } from './contract.mjs';
import { InvalidRequestError, type WorkContext } from './runner.mjs';
import { checkTemplate, type Template, TemplateError } from './templates.mjs';

export function imageJob(assets: Assets): (request: ImageRequest, ctx: WorkContext) => Promise<ImageResult> {
  return async (request, ctx) => {
    if (request.output.bucket !== assets.config.outputBucket) {
      throw new InvalidRequestError(`output.bucket: '${request.output.bucket}' is not this deployment's output bucket ('${assets.config.outputBucket}')`);
    }
    const base = { output: request.output, width: request.width, height: request.height };
    const done = await assets.finished(request.output, request.fingerprint);
    if (done) {
      return { kind: KINDS.render_image, ...base, size_bytes: Number(done.ContentLength), reused: true, usage: ctx.usage() };
    }
    let template: Template;
    try {
      // Props first: a bad prop is refused, naming it, before any download.
      template = checkTemplate(request.template, request.props, request.width, request.height, sizeName);
    } catch (err) {
      if (err instanceof TemplateError) throw new InvalidRequestError(err.message);
      throw err;
    }
    ctx.report({ stage: 'fetching', percent: 10 });
    const fonts = await assets.fonts(request.brand);
    // Every drawn text prop, checked against the brand fonts and the chain before any more
    // downloads or any Satori work: a character no font has fails here, naming the prop.
    const texts = Object.entries(request.props)
      .filter(([name, value]) => typeof value === 'string' && !template.images.includes(name))
      .map(([name, value]): [string, string] => [`props.${name}`, String(value)]);
    assets.chain.check(texts, fonts.map((f) => assets.covers(f.data as Buffer))); // ours: Buffers
    const images: Record<string, string | null> = { logo: request.brand.logo ? await assets.image('brand.logo', request.brand.logo) : null };
    for (const name of template.images) {
      const ref = request.props[name];
      if (typeof ref === 'string' && ref) images[name] = await assets.image(`props.${name}`, ref);
    }
    if (ctx.signal.aborted) throw new Error('cancelled');
    ctx.report({ stage: 'rendering', percent: 50 });
    const png = await renderCard({ template: request.template, props: request.props, width: request.width,
      height: request.height, colors: request.brand.colors, fonts: [...fonts, ...assets.chain.baseFonts()], images,
      loadAdditionalAsset: assets.chain.loader(texts.map(([, v]) => v).join('\n')) });
    ctx.report({ stage: 'uploading', percent: 90 });
    await assets.publish(request.output, png, request.fingerprint);
    return { kind: KINDS.render_image, ...base, size_bytes: png.length, reused: false, usage: ctx.usage() };
  };
}
