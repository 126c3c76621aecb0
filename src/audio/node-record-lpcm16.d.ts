declare module 'node-record-lpcm16' {
  interface RecordOptions {
    recorder?: string;
    device?: string | null;
    sampleRate?: number;
    channels?: number;
    audioType?: string;
  }
  const recorder: { record(options: RecordOptions): unknown };
  export default recorder;
}
