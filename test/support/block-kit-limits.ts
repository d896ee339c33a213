/**
 * Block Kit limit checker used by the Slack stand-in (and usable directly in unit tests).
 *
 * It enforces the limits Slack publishes in its Block Kit reference, so that a payload the
 * real Slack would reject with `invalid_blocks` is also rejected in tests. It is deliberately
 * a pure function: give it a surface, the blocks and (for modals) the view chrome, and it
 * returns a list of human-readable violations, each prefixed with a JSON-pointer-like path.
 * An empty list means the payload is within the limits.
 */

export type BlockKitSurface = 'message' | 'modal' | 'home';

export interface BlockKitExtra {
  /** Modal title: a plain_text object or a bare string. Max 24 characters. */
  title?: unknown;
  /** Modal submit button text: a plain_text object or a bare string. Max 24 characters. */
  submit?: unknown;
  /** Modal close button text: a plain_text object or a bare string. Max 24 characters. */
  close?: unknown;
  /** Modal private_metadata. Max 3,000 characters. */
  privateMetadata?: unknown;
  /** Modal callback_id. Max 255 characters. */
  callbackId?: unknown;
  /** Message top-level `text`. Max 40,000 characters. */
  text?: unknown;
}

/** Published Slack limits, in characters unless stated otherwise. */
export const BLOCK_KIT_LIMITS = {
  blocksPerMessage: 50,
  blocksPerModal: 100,
  /** A Home tab view (views.publish). */
  blocksPerHome: 100,
  messageText: 40_000,
  sectionText: 3_000,
  sectionFields: 10,
  sectionFieldText: 2_000,
  headerText: 150,
  textObject: 3_000,
  buttonText: 75,
  buttonValue: 2_000,
  url: 3_000,
  actionId: 255,
  blockId: 255,
  optionText: 75,
  optionValue: 150,
  optionDescription: 75,
  optionGroupLabel: 75,
  selectOptions: 100,
  selectOptionGroups: 100,
  checkboxOptions: 10,
  radioOptions: 10,
  overflowOptions: 5,
  placeholder: 150,
  plainTextInputLength: 3_000,
  modalTitle: 24,
  modalSubmit: 24,
  modalClose: 24,
  privateMetadata: 3_000,
  callbackId: 255,
  actionsElements: 25,
  contextElements: 10,
  inputLabel: 2_000,
  inputHint: 2_000,
  imageAltText: 2_000,
  imageTitle: 2_000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
} as const;

const KNOWN_BLOCK_TYPES = new Set([
  'actions',
  'context',
  'context_actions',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'table',
  'video',
  'call',
]);

const PLACEHOLDER_ELEMENT_TYPES = new Set([
  'static_select',
  'multi_static_select',
  'external_select',
  'multi_external_select',
  'users_select',
  'multi_users_select',
  'conversations_select',
  'multi_conversations_select',
  'channels_select',
  'multi_channels_select',
  'plain_text_input',
  'datepicker',
  'timepicker',
  'datetimepicker',
  'email_text_input',
  'url_text_input',
  'number_input',
]);

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Collector {
  readonly problems: string[] = [];

  add(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  /** Checks a string length (when the value is present). */
  maxLength(path: string, value: unknown, max: number): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'string') {
      this.add(path, `must be a string (got ${typeof value})`);
      return;
    }
    if (value.length > max) this.add(path, `must be at most ${max} characters (got ${value.length})`);
  }

  maxItems(path: string, value: unknown, max: number, what: string): void {
    if (Array.isArray(value) && value.length > max) {
      this.add(path, `must have at most ${max} ${what} (got ${value.length})`);
    }
  }

  /**
   * Checks a text object ({type, text}). `allowed` restricts the text type (Slack requires
   * plain_text for headers, buttons, labels, placeholders, titles...).
   */
  textObject(
    path: string,
    value: unknown,
    max: number,
    allowed: ReadonlyArray<'plain_text' | 'mrkdwn'> = ['plain_text', 'mrkdwn'],
  ): void {
    if (value === undefined) return;
    if (!isRecord(value)) {
      this.add(path, 'must be a text object like {"type":"plain_text","text":"..."}');
      return;
    }
    const type = value.type;
    if (type !== 'plain_text' && type !== 'mrkdwn') {
      this.add(`${path}.type`, `must be "plain_text" or "mrkdwn" (got ${JSON.stringify(type)})`);
    } else if (!allowed.includes(type)) {
      this.add(`${path}.type`, `must be ${allowed.map((a) => `"${a}"`).join(' or ')} (got "${type}")`);
    }
    const text = value.text;
    if (typeof text !== 'string') {
      this.add(`${path}.text`, 'is required and must be a string');
      return;
    }
    if (text.length === 0) this.add(`${path}.text`, 'must be at least 1 character');
    if (text.length > max) this.add(`${path}.text`, `must be at most ${max} characters (got ${text.length})`);
  }

  /** Modal chrome accepts either a plain_text object (as Slack requires) or a bare string (for convenience). */
  chromeText(path: string, value: unknown, max: number): void {
    if (value === undefined || value === null) return;
    if (typeof value === 'string') {
      this.maxLength(path, value, max);
      return;
    }
    this.textObject(path, value, max, ['plain_text']);
  }
}

function checkConfirm(c: Collector, path: string, confirm: unknown): void {
  if (confirm === undefined) return;
  if (!isRecord(confirm)) {
    c.add(path, 'must be a confirmation dialog object');
    return;
  }
  c.textObject(`${path}.title`, confirm.title, BLOCK_KIT_LIMITS.confirmTitle, ['plain_text']);
  c.textObject(`${path}.text`, confirm.text, BLOCK_KIT_LIMITS.confirmText);
  c.textObject(`${path}.confirm`, confirm.confirm, BLOCK_KIT_LIMITS.confirmButton, ['plain_text']);
  c.textObject(`${path}.deny`, confirm.deny, BLOCK_KIT_LIMITS.confirmButton, ['plain_text']);
}

function checkOption(c: Collector, path: string, option: unknown, textTypes: ReadonlyArray<'plain_text' | 'mrkdwn'>): void {
  if (!isRecord(option)) {
    c.add(path, 'must be an option object');
    return;
  }
  c.textObject(`${path}.text`, option.text, BLOCK_KIT_LIMITS.optionText, textTypes);
  if (option.text === undefined) c.add(`${path}.text`, 'is required');
  if (typeof option.value !== 'string') {
    c.add(`${path}.value`, 'is required and must be a string');
  } else {
    c.maxLength(`${path}.value`, option.value, BLOCK_KIT_LIMITS.optionValue);
  }
  c.textObject(`${path}.description`, option.description, BLOCK_KIT_LIMITS.optionDescription);
  c.maxLength(`${path}.url`, option.url, BLOCK_KIT_LIMITS.url);
}

function checkOptions(
  c: Collector,
  path: string,
  options: unknown,
  max: number,
  textTypes: ReadonlyArray<'plain_text' | 'mrkdwn'>,
): void {
  if (options === undefined) return;
  if (!Array.isArray(options)) {
    c.add(path, 'must be an array of option objects');
    return;
  }
  c.maxItems(path, options, max, 'options');
  options.forEach((o, i) => checkOption(c, `${path}[${i}]`, o, textTypes));
}

function checkElement(c: Collector, path: string, element: unknown): void {
  if (!isRecord(element)) {
    c.add(path, 'must be an element object');
    return;
  }
  const type = element.type;
  if (typeof type !== 'string' || type.length === 0) {
    c.add(`${path}.type`, 'is required');
    return;
  }
  c.maxLength(`${path}.action_id`, element.action_id, BLOCK_KIT_LIMITS.actionId);
  if (PLACEHOLDER_ELEMENT_TYPES.has(type)) {
    c.textObject(`${path}.placeholder`, element.placeholder, BLOCK_KIT_LIMITS.placeholder, ['plain_text']);
  }
  checkConfirm(c, `${path}.confirm`, element.confirm);

  switch (type) {
    case 'button': {
      if (element.text === undefined) c.add(`${path}.text`, 'is required');
      c.textObject(`${path}.text`, element.text, BLOCK_KIT_LIMITS.buttonText, ['plain_text']);
      c.maxLength(`${path}.value`, element.value, BLOCK_KIT_LIMITS.buttonValue);
      c.maxLength(`${path}.url`, element.url, BLOCK_KIT_LIMITS.url);
      if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger') {
        c.add(`${path}.style`, `must be "primary" or "danger" (got ${JSON.stringify(element.style)})`);
      }
      break;
    }
    case 'static_select':
    case 'multi_static_select': {
      const hasOptions = element.options !== undefined;
      const hasGroups = element.option_groups !== undefined;
      if (hasOptions === hasGroups) {
        c.add(path, `${type} requires exactly one of options or option_groups`);
      }
      checkOptions(c, `${path}.options`, element.options, BLOCK_KIT_LIMITS.selectOptions, ['plain_text']);
      if (hasGroups) {
        if (!Array.isArray(element.option_groups)) {
          c.add(`${path}.option_groups`, 'must be an array');
        } else {
          c.maxItems(`${path}.option_groups`, element.option_groups, BLOCK_KIT_LIMITS.selectOptionGroups, 'option groups');
          element.option_groups.forEach((g, gi) => {
            const gPath = `${path}.option_groups[${gi}]`;
            if (!isRecord(g)) {
              c.add(gPath, 'must be an option group object');
              return;
            }
            c.textObject(`${gPath}.label`, g.label, BLOCK_KIT_LIMITS.optionGroupLabel, ['plain_text']);
            checkOptions(c, `${gPath}.options`, g.options, BLOCK_KIT_LIMITS.selectOptions, ['plain_text']);
          });
        }
      }
      if (element.initial_option !== undefined) {
        checkOption(c, `${path}.initial_option`, element.initial_option, ['plain_text']);
      }
      break;
    }
    case 'overflow':
      checkOptions(c, `${path}.options`, element.options, BLOCK_KIT_LIMITS.overflowOptions, ['plain_text']);
      break;
    case 'checkboxes':
      checkOptions(c, `${path}.options`, element.options, BLOCK_KIT_LIMITS.checkboxOptions, ['plain_text', 'mrkdwn']);
      break;
    case 'radio_buttons':
      checkOptions(c, `${path}.options`, element.options, BLOCK_KIT_LIMITS.radioOptions, ['plain_text', 'mrkdwn']);
      break;
    case 'plain_text_input': {
      for (const key of ['min_length', 'max_length'] as const) {
        const v = element[key];
        if (v !== undefined && (typeof v !== 'number' || v < 0 || v > BLOCK_KIT_LIMITS.plainTextInputLength)) {
          c.add(`${path}.${key}`, `must be a number between 0 and ${BLOCK_KIT_LIMITS.plainTextInputLength}`);
        }
      }
      break;
    }
    case 'image':
      c.maxLength(`${path}.image_url`, element.image_url, BLOCK_KIT_LIMITS.url);
      c.maxLength(`${path}.alt_text`, element.alt_text, BLOCK_KIT_LIMITS.imageAltText);
      break;
    default:
      break;
  }
}

function checkBlock(c: Collector, path: string, block: unknown): void {
  if (!isRecord(block)) {
    c.add(path, 'must be a block object');
    return;
  }
  const type = block.type;
  if (typeof type !== 'string' || type.length === 0) {
    c.add(`${path}.type`, 'is required');
    return;
  }
  if (!KNOWN_BLOCK_TYPES.has(type)) c.add(`${path}.type`, `unknown block type ${JSON.stringify(type)}`);
  c.maxLength(`${path}.block_id`, block.block_id, BLOCK_KIT_LIMITS.blockId);

  switch (type) {
    case 'section': {
      if (block.text === undefined && block.fields === undefined) {
        c.add(path, 'section requires text or fields');
      }
      c.textObject(`${path}.text`, block.text, BLOCK_KIT_LIMITS.sectionText);
      if (block.fields !== undefined) {
        if (!Array.isArray(block.fields)) {
          c.add(`${path}.fields`, 'must be an array of text objects');
        } else {
          c.maxItems(`${path}.fields`, block.fields, BLOCK_KIT_LIMITS.sectionFields, 'fields');
          block.fields.forEach((f, i) => c.textObject(`${path}.fields[${i}]`, f, BLOCK_KIT_LIMITS.sectionFieldText));
        }
      }
      if (block.accessory !== undefined) checkElement(c, `${path}.accessory`, block.accessory);
      break;
    }
    case 'header':
      if (block.text === undefined) c.add(`${path}.text`, 'is required');
      c.textObject(`${path}.text`, block.text, BLOCK_KIT_LIMITS.headerText, ['plain_text']);
      break;
    case 'actions': {
      if (!Array.isArray(block.elements) || block.elements.length === 0) {
        c.add(`${path}.elements`, 'must be a non-empty array');
        break;
      }
      c.maxItems(`${path}.elements`, block.elements, BLOCK_KIT_LIMITS.actionsElements, 'elements');
      const seen = new Set<string>();
      block.elements.forEach((e, i) => {
        checkElement(c, `${path}.elements[${i}]`, e);
        if (isRecord(e) && typeof e.action_id === 'string') {
          if (seen.has(e.action_id)) {
            c.add(`${path}.elements[${i}].action_id`, `duplicate action_id ${JSON.stringify(e.action_id)} in block`);
          }
          seen.add(e.action_id);
        }
      });
      break;
    }
    case 'context': {
      if (!Array.isArray(block.elements) || block.elements.length === 0) {
        c.add(`${path}.elements`, 'must be a non-empty array');
        break;
      }
      c.maxItems(`${path}.elements`, block.elements, BLOCK_KIT_LIMITS.contextElements, 'elements');
      block.elements.forEach((e, i) => {
        const ePath = `${path}.elements[${i}]`;
        if (isRecord(e) && e.type === 'image') {
          checkElement(c, ePath, e);
        } else {
          c.textObject(ePath, e, BLOCK_KIT_LIMITS.textObject);
        }
      });
      break;
    }
    case 'input': {
      if (block.label === undefined) c.add(`${path}.label`, 'is required');
      c.textObject(`${path}.label`, block.label, BLOCK_KIT_LIMITS.inputLabel, ['plain_text']);
      c.textObject(`${path}.hint`, block.hint, BLOCK_KIT_LIMITS.inputHint, ['plain_text']);
      if (block.element === undefined) c.add(`${path}.element`, 'is required');
      else checkElement(c, `${path}.element`, block.element);
      break;
    }
    case 'image':
      c.maxLength(`${path}.image_url`, block.image_url, BLOCK_KIT_LIMITS.url);
      c.maxLength(`${path}.alt_text`, block.alt_text, BLOCK_KIT_LIMITS.imageAltText);
      c.textObject(`${path}.title`, block.title, BLOCK_KIT_LIMITS.imageTitle, ['plain_text']);
      break;
    default:
      break;
  }
}

/**
 * Returns every Block Kit limit violation found in `blocks` for the given surface (empty when fine).
 * For modals pass the view chrome in `extra` (title, submit, close, privateMetadata, callbackId);
 * for messages you may pass the top-level `text` to check the 40,000-character message limit.
 */
export function checkBlockKit(surface: BlockKitSurface, blocks: unknown[], extra: BlockKitExtra = {}): string[] {
  const c = new Collector();
  if (!Array.isArray(blocks)) {
    c.add('blocks', 'must be an array');
    return c.problems;
  }
  const maxBlocks = surface === 'message' ? BLOCK_KIT_LIMITS.blocksPerMessage : surface === 'home' ? BLOCK_KIT_LIMITS.blocksPerHome : BLOCK_KIT_LIMITS.blocksPerModal;
  if (blocks.length > maxBlocks) {
    c.add('blocks', `a ${surface} may have at most ${maxBlocks} blocks (got ${blocks.length})`);
  }
  const blockIds = new Set<string>();
  blocks.forEach((block, i) => {
    checkBlock(c, `blocks[${i}]`, block);
    if (isRecord(block) && typeof block.block_id === 'string') {
      if (blockIds.has(block.block_id)) c.add(`blocks[${i}].block_id`, `duplicate block_id ${JSON.stringify(block.block_id)}`);
      blockIds.add(block.block_id);
    }
  });

  if (surface === 'modal') {
    c.chromeText('title', extra.title, BLOCK_KIT_LIMITS.modalTitle);
    c.chromeText('submit', extra.submit, BLOCK_KIT_LIMITS.modalSubmit);
    c.chromeText('close', extra.close, BLOCK_KIT_LIMITS.modalClose);
    c.maxLength('private_metadata', extra.privateMetadata, BLOCK_KIT_LIMITS.privateMetadata);
    c.maxLength('callback_id', extra.callbackId, BLOCK_KIT_LIMITS.callbackId);
  }
  c.maxLength('text', extra.text, BLOCK_KIT_LIMITS.messageText);
  return c.problems;
}

/**
 * Validates a whole modal view object as sent to views.open / views.update / views.push:
 * type must be "modal", title is required, submit is required when there are input blocks,
 * and all Block Kit limits apply.
 */
export function checkModalView(view: unknown): string[] {
  if (!isRecord(view)) return ['view: must be a view object'];
  const problems: string[] = [];
  if (view.type !== 'modal') problems.push(`view.type: must be "modal" (got ${JSON.stringify(view.type)})`);
  if (view.title === undefined) problems.push('view.title: is required');
  if (!Array.isArray(view.blocks)) {
    problems.push('view.blocks: is required and must be an array');
    return problems;
  }
  const hasInput = view.blocks.some((b) => isRecord(b) && b.type === 'input');
  if (hasInput && view.submit === undefined) problems.push('view.submit: is required when the view contains input blocks');
  const found = checkBlockKit('modal', view.blocks, {
    title: view.title,
    submit: view.submit,
    close: view.close,
    privateMetadata: view.private_metadata,
    callbackId: view.callback_id,
  });
  return problems.concat(found.map((p) => `view.${p}`));
}

/**
 * Validates a Home tab view as sent to views.publish: type must be "home" (a Home has no title,
 * submit or close), at most 100 blocks, and all Block Kit limits apply.
 */
export function checkHomeView(view: unknown): string[] {
  if (!isRecord(view)) return ['view: must be a view object'];
  const problems: string[] = [];
  if (view.type !== 'home') problems.push(`view.type: must be "home" (got ${JSON.stringify(view.type)})`);
  if (!Array.isArray(view.blocks)) return [...problems, 'view.blocks: is required and must be an array'];
  const found = checkBlockKit('home', view.blocks, { privateMetadata: view.private_metadata, callbackId: view.callback_id });
  return problems.concat(found.map((p) => `view.${p}`));
}
