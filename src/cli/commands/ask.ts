import type { Command } from 'commander';
import { openAssist, speakOnce } from '../../assist/oneshot.js';
import { Player } from '../../audio/player.js';
import { createSink } from '../../audio/sinks/create-sink.js';
import { loadBoardProfile } from '../../config/board-profile.js';
import { audioDevices } from '../../device/wiring.js';
import { discoveryIdentifier } from '../../mqtt/discovery.js';
import { EarshotError } from '../../shared/errors.js';
import { createRootLogger } from '../../shared/logger.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from '../config-options.js';

interface AskFlags extends ConfigOptions {
  json?: boolean;
}

/**
 * `earshot ask "TEXT"`: a typed question through the configured cloud's conversation
 * agent (Home Assistant: intent → tts), the answer printed and played. A maker's first
 * check that the speaker and HA are wired, without saying a word.
 */
export function registerAsk(program: Command): void {
  addConfigOptions(
    program
      .command('ask')
      .description(
        'ask the cloud a question as text: prints the answer and plays it (Home Assistant)',
      )
      .argument('<text>', 'the question, e.g. "what time is it"')
      .option('--json', 'print one JSON object'),
  ).action(async (text: string, flags: AskFlags) => {
    const config = configFromOptions(flags);
    if (config.cloud.protocol !== 'home-assistant') {
      throw new EarshotError(
        'E_TEXT_UNSUPPORTED',
        'earshot ask needs cloud.protocol: home-assistant',
      );
    }
    if (!config.cloud.url) throw new EarshotError('E_LINK_CONFIG', 'cloud.url is not set');
    const log = createRootLogger({ level: 'warn', format: config.log.format });
    const audio = audioDevices(config, loadBoardProfile(config.board));
    const player = new Player(
      createSink({ ...config.audio.playback, device: audio.playback }, log),
      log,
      config.audio.playback.volume,
    );
    const transport = await openAssist(
      config.cloud,
      discoveryIdentifier(config.device.id),
      log,
      config.cloud.connectTimeoutMs,
    );
    try {
      const done = new Promise<void>((resolve) => player.once('replyDone', () => resolve()));
      const spoken = await speakOnce(transport, 'ask', text, {
        begin: (format) => player.beginReply(format),
        write: (pcm) => player.writeReply(pcm),
      });
      if (spoken.format) {
        player.endReply();
        await done;
      }
      const seconds = spoken.format ? spoken.samples / spoken.format.sampleRate : 0;
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({
            text: spoken.text ?? '',
            ...(spoken.conversationId ? { conversationId: spoken.conversationId } : {}),
            played: {
              seconds: Math.round(seconds * 1000) / 1000,
              sampleRate: spoken.format?.sampleRate ?? 0,
              sink: player.sinkKind,
            },
          })}\n`,
        );
      } else {
        process.stdout.write(`${spoken.text ?? ''}\n`);
        process.stdout.write(`(played ${seconds.toFixed(1)} s on ${player.sinkKind})\n`);
      }
    } finally {
      await transport.stop();
    }
  });
}
