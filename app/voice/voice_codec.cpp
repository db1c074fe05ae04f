#include "app/voice/voice_codec.h"

#include <opus/opus.h>

#include <algorithm>

#include "net/wire/limits.h"

namespace huddle::voice {

VoiceEncoder::VoiceEncoder(int bitrate, int expectedLossPercent) {
  int err = OPUS_OK;
  m_enc = opus_encoder_create(kSampleRate, 1, OPUS_APPLICATION_VOIP, &err);
  if (err != OPUS_OK) {
    m_enc = nullptr;
    return;
  }
  opus_encoder_ctl(m_enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
  opus_encoder_ctl(m_enc, OPUS_SET_INBAND_FEC(1));
  opus_encoder_ctl(m_enc, OPUS_SET_DTX(1));
  opus_encoder_ctl(m_enc, OPUS_SET_VBR(1));
  opus_encoder_ctl(m_enc, OPUS_SET_COMPLEXITY(8));
  setBitrate(bitrate);
  setExpectedLoss(expectedLossPercent);
}

VoiceEncoder::~VoiceEncoder() {
  if (m_enc) opus_encoder_destroy(m_enc);
}

int VoiceEncoder::setBitrate(int bitsPerSecond) {
  m_bitrate = std::clamp(bitsPerSecond, kMinVoiceBitrate, kMaxVoiceBitrate);
  if (m_enc) opus_encoder_ctl(m_enc, OPUS_SET_BITRATE(m_bitrate));
  return m_bitrate;
}

void VoiceEncoder::setExpectedLoss(int percent) {
  if (m_enc) opus_encoder_ctl(m_enc, OPUS_SET_PACKET_LOSS_PERC(std::clamp(percent, 0, 100)));
}

int VoiceEncoder::lookahead() const {
  opus_int32 samples = 0;
  if (m_enc) opus_encoder_ctl(m_enc, OPUS_GET_LOOKAHEAD(&samples));
  return samples;
}

EncodedVoice VoiceEncoder::encode(PcmFrame pcm) {
  EncodedVoice out;
  if (!m_enc) return out;
  out.opus.resize(wire::kMaxVoiceOpusBytes);
  const opus_int32 n = opus_encode(m_enc, pcm.data(), static_cast<int>(kFrameSamples), out.opus.data(),
                                   static_cast<opus_int32>(out.opus.size()));
  if (n < 0) {
    out.opus.clear();
    return out;
  }
  out.opus.resize(static_cast<std::size_t>(n));
  out.silent = n <= 2;  // opus_encode's documented DTX signal: "no need to transmit"
  return out;
}

VoiceDecoder::VoiceDecoder() {
  int err = OPUS_OK;
  m_dec = opus_decoder_create(kSampleRate, 1, &err);
  if (err != OPUS_OK) m_dec = nullptr;
}

VoiceDecoder::~VoiceDecoder() {
  if (m_dec) opus_decoder_destroy(m_dec);
}

bool VoiceDecoder::decode(std::span<const std::uint8_t> opus, PcmFrameOut out) {
  if (!m_dec || opus.empty() || opus.size() > wire::kMaxVoiceOpusBytes) {
    conceal(out);
    return false;
  }
  const int n = opus_decode(m_dec, opus.data(), static_cast<opus_int32>(opus.size()), out.data(),
                            static_cast<int>(kFrameSamples), 0);
  if (n != static_cast<int>(kFrameSamples)) {
    // A packet of another duration (or garbage) would not fit the 10 ms clock.
    conceal(out);
    return false;
  }
  return true;
}

void VoiceDecoder::conceal(PcmFrameOut out) {
  const int n = m_dec ? opus_decode(m_dec, nullptr, 0, out.data(), static_cast<int>(kFrameSamples), 0) : -1;
  if (n != static_cast<int>(kFrameSamples)) std::fill(out.begin(), out.end(), std::int16_t{0});
}

bool VoiceDecoder::recover(std::span<const std::uint8_t> next, PcmFrameOut out) {
  if (!m_dec || next.empty() || next.size() > wire::kMaxVoiceOpusBytes) {
    conceal(out);
    return false;
  }
  const int n = opus_decode(m_dec, next.data(), static_cast<opus_int32>(next.size()), out.data(),
                            static_cast<int>(kFrameSamples), 1);
  if (n != static_cast<int>(kFrameSamples)) {
    conceal(out);
    return false;
  }
  return true;
}

}  // namespace huddle::voice
