import sdk from 'microsoft-cognitiveservices-speech-sdk';

export { sdk };

export interface OnceOutcome {
  result: sdk.SpeechRecognitionResult;
  canceled?: sdk.CancellationDetails;
}

/** Single-shot recognition of a WAV buffer through the published SDK. */
export async function recognizeOnce(config: sdk.SpeechConfig, wav: Buffer): Promise<OnceOutcome> {
  const audio = sdk.AudioConfig.fromWavFileInput(wav);
  const recognizer = new sdk.SpeechRecognizer(config, audio);
  try {
    const result = await new Promise<sdk.SpeechRecognitionResult>((resolve, reject) => recognizer.recognizeOnceAsync(resolve, (e) => reject(new Error(e))));
    const outcome: OnceOutcome = { result };
    if (result.reason === sdk.ResultReason.Canceled) outcome.canceled = sdk.CancellationDetails.fromResult(result);
    return outcome;
  } finally {
    recognizer.close();
  }
}

export interface ContinuousEvent {
  kind: 'recognizing' | 'recognized' | 'canceled' | 'sessionStarted' | 'sessionStopped' | 'speechStartDetected' | 'speechEndDetected';
  text?: string;
  offset?: number;
  duration?: number;
  reason?: sdk.ResultReason;
  json?: string;
  cancellation?: { reason: sdk.CancellationReason; errorCode: sdk.CancellationErrorCode; details: string };
}

/** Continuous recognition of a WAV buffer until the SDK stops the session. */
export async function recognizeContinuous(config: sdk.SpeechConfig, wav: Buffer, timeoutMs = 120_000): Promise<ContinuousEvent[]> {
  const audio = sdk.AudioConfig.fromWavFileInput(wav);
  const recognizer = new sdk.SpeechRecognizer(config, audio);
  const events: ContinuousEvent[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`continuous recognition did not stop within ${timeoutMs} ms`)), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        recognizer.stopContinuousRecognitionAsync(() => resolve(), (e) => reject(new Error(e)));
      };
      recognizer.recognizing = (_s, e) => events.push({ kind: 'recognizing', text: e.result.text, offset: e.result.offset, duration: e.result.duration });
      recognizer.recognized = (_s, e) =>
        events.push({ kind: 'recognized', text: e.result.text, offset: e.result.offset, duration: e.result.duration, reason: e.result.reason, json: e.result.json });
      recognizer.canceled = (_s, e) => {
        events.push({ kind: 'canceled', cancellation: { reason: e.reason, errorCode: e.errorCode, details: e.errorDetails } });
      };
      recognizer.sessionStarted = () => events.push({ kind: 'sessionStarted' });
      recognizer.speechStartDetected = () => events.push({ kind: 'speechStartDetected' });
      recognizer.speechEndDetected = () => events.push({ kind: 'speechEndDetected' });
      recognizer.sessionStopped = () => {
        events.push({ kind: 'sessionStopped' });
        done();
      };
      recognizer.startContinuousRecognitionAsync(() => undefined, (e) => reject(new Error(e)));
    });
  } finally {
    recognizer.close();
  }
  return events;
}
