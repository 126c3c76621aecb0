/** The firmware version reported to the cloud, MQTT and `earshot --version`. */
export const VERSION = '0.1.0';
