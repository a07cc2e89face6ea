/** Cell parsers: every written form of the five source documents. */
import { describe, expect, it } from 'vitest';
import { parsePortCell, parseState, parseTransports, parseYesNo, stripNoteMarkers } from '../../../../src/matrix/import/cells.js';

const ports = (cell: string) => parsePortCell(cell);

describe('parsePortCell', () => {
  it.each([
    ['22', '22'],
    ['5060-5061', '5060-5061'],
    ['5488/5489', '5488-5489'],
    ['80/8000', '80,8000'],
    ['1556/13724', '1556,13724'],
    ['49244 / 49247', '49244,49247'],
    ['6020,6030,6040,6050,6060, 6070, 6080', '6020,6030,6040,6050,6060,6070,6080'],
    ['50000, 50001', '50000-50001'],
    ['3077,3078, 3079', '3077-3079'],
    ['33012 33029 34301', '33012,33029,34301'],
    ['61617 443 80', '80,443,61617'],
    ['450 1050-1065 4721 4722', '450,1050-1065,4721-4722'],
    ['1972 8085', '1972,8085'],
    ['3999 - 4007', '3999-4007'],
    ['1024 -65503', '1024-65503'],
    ['21000 to 21031', '21000-21031'],
    ['5001-64500', '5001-64500'],
  ])('%s -> %s', (cell, spec) => {
    const parsed = ports(cell);
    expect(parsed.error).toBeUndefined();
    expect(parsed.ports).toBe(spec);
  });

  it('keeps the configurable range apart from the default', () => {
    expect(ports('80 (Configurable 1-100)')).toMatchObject({ ports: '80', configurable: '1-100' });
    expect(ports('161 (Configurable 161, 1024- 65535)')).toMatchObject({ ports: '161', configurable: '161,1024-65535' });
    expect(ports('5060-5061 (Configurable 1024-64510)')).toMatchObject({ ports: '5060-5061', configurable: '1024-64510' });
    expect(ports('50804 (Configurable 49152- 65280)')).toMatchObject({ ports: '50804', configurable: '49152-65280' });
    expect(ports('5060 (1024-65535)')).toMatchObject({ ports: '5060', configurable: '1024-65535' });
    const minStart = ports('40750-50750 (Configurable min start 1024, min end 2048)');
    expect(minStart).toMatchObject({ ports: '40750-50750', configurable: '1024-65535' });
    expect(minStart.repairs.join()).toMatch(/min start/);
    expect(ports('Default Range is (5004 – 5203) Available Range is (1024-65535)')).toMatchObject({ ports: '5004-5203', configurable: '1024-65535' });
  });

  it('marks configurable ports without a range: (Configurable), (C), no space before the parenthesis', () => {
    expect(ports('56000-58000 (Configurable)')).toMatchObject({ ports: '56000-58000', configurableUnspecified: true });
    expect(ports('42004(Configurable)')).toMatchObject({ ports: '42004', configurableUnspecified: true });
    expect(ports('5060 (C)')).toMatchObject({ ports: '5060', configurableUnspecified: true });
    expect(ports('162 (Configurable)').configurable).toBeUndefined();
  });

  it('keeps remarks and note references out of the ports', () => {
    expect(ports('5222 (fixed, jabber protocol)')).toMatchObject({ ports: '5222', remark: 'fixed, jabber protocol' });
    expect(ports('6001 (Note 6)')).toMatchObject({ ports: '6001', notes: ['6'] });
  });

  it('repairs a list with an empty item and a number split by a wrap, and says so', () => {
    const parsed = ports('7020, 7030,, 7040,715 0');
    expect(parsed.ports).toBe('7020,7030,7040,7150');
    expect(parsed.repairs).toHaveLength(2);
  });

  it('flags impossible values and never clamps them', () => {
    const parsed = ports('(6225 - 106275)');
    expect(parsed.error).toMatch(/106275.*outside 1-65535/);
    expect(parsed.ports).toBeUndefined();
    expect(ports('0').error).toMatch(/outside/);
    expect(ports('4007-3999').error).toMatch(/reversed/);
  });

  it('recognises cells without a port', () => {
    expect(ports('Ephemeral').kind).toBe('ephemeral');
    expect(ports('Ephemeral (1024 – 65535)').kind).toBe('ephemeral');
    const typo = ports('Ephermeral');
    expect(typo.kind).toBe('ephemeral');
    expect(typo.repairs.join()).toMatch(/typo/);
    expect(ports('').kind).toBe('empty');
    expect(ports('None').kind).toBe('none');
    expect(ports('22, Ephemeral')).toMatchObject({ kind: 'ports', ports: '22' });
  });
});

describe('parseTransports', () => {
  it.each([
    ['TCP/SSH', ['tcp']],
    ['UDP+TCP+TLS/SIP', ['tcp', 'udp']],
    ['UDP-TCP/Voicemail', ['tcp', 'udp']],
    ['TCP/UDP', ['tcp', 'udp']],
    ['TCP /H.323 signaling', ['tcp']],
    ['TCP/ SNMP Trap', ['tcp']],
    ['NTP', ['udp']],
    ['UDP/SNMP', ['udp']],
    ['SNMP', ['udp']],
    ['UDP/BOOTP Server', ['udp']],
    ['UDP/RTP-RTCP UDP/SRTP-SRTCP', ['udp']],
    ['UDP/RTP, UDP/RTCP, UDP/SRTP, UDP/SRTC', ['udp']],
    ['TLS', ['tcp']],
    ['TLS/Syslog', ['tcp']],
    ['SSL (JMX)', ['tcp']],
    ['SSL/Voicemail', ['tcp']],
    ['HTTPS', ['tcp']],
    ['HTTP - SOAP', ['tcp']],
    ['HTTP-HTTPS', ['tcp']],
    ['HTTP(S)', ['tcp']],
    ['WSS/HTTP, HTTPS', ['tcp']],
    ['IMAP4 – SSL', ['tcp']],
    ['POP3 over TLS', ['tcp']],
    ['SMTP', ['tcp']],
    ['TCP/LDAP', ['tcp']],
    ['TLS/STUN TLS /TURN', ['tcp']],
    ['Own protocol based on TCP', ['tcp']],
    ['.H323', ['tcp', 'udp']],
  ] as const)('%s -> %j', (cell, transports) => {
    const parsed = parseTransports(cell);
    expect(parsed.error).toBeUndefined();
    expect(parsed.transports).toEqual(transports);
  });

  it('reads the UPD typo as UDP and records the repair', () => {
    expect(parseTransports('UPD/Voicemail')).toMatchObject({ transports: ['udp'] });
    expect(parseTransports('UPD+TCP/SysMonitor').transports).toEqual(['tcp', 'udp']);
    expect(parseTransports('UPD/Proprietary').repairs.join()).toMatch(/typo UPD/);
  });

  it('fails when the text does not say TCP or UDP', () => {
    expect(parseTransports('NA').error).toMatch(/does not say TCP or UDP/);
    expect(parseTransports('').error).toMatch(/empty/);
  });
});

describe('parseState and parseYesNo', () => {
  it('reads the fixed states and keeps conditions verbatim', () => {
    expect(parseState('Open').state).toBe('open');
    expect(parseState('Closed').state).toBe('closed');
    expect(parseState('Filtered').state).toBe('filtered');
    expect(parseState('N/A').state).toBe('n/a');
    expect(parseState('Open (Note 1)').state).toBe('open');
    expect(parseState('Open if HA').state).toEqual({ conditional: 'Open if HA', whenMet: 'open' });
    expect(parseState('').error).toMatch(/empty/);
    expect(parseState('Yes').error).toMatch(/not a port state/);
  });

  it('reads Yes/No in any case, with notes and a stray asterisk', () => {
    expect(parseYesNo('Yes').value).toBe(true);
    expect(parseYesNo('NO').value).toBe(false);
    expect(parseYesNo('No (Note 1)').value).toBe(false);
    const starred = parseYesNo('No*');
    expect(starred.value).toBe(false);
    expect(starred.repairs).toHaveLength(1);
    expect(parseYesNo('').error).toMatch(/empty/);
  });
});

describe('stripNoteMarkers', () => {
  it('finds superscript, parenthesised and "See Note" references', () => {
    expect(stripNoteMarkers('SIP signaling traffic ⁽⁷⁾')).toEqual({ text: 'SIP signaling traffic', notes: ['7'] });
    expect(stripNoteMarkers('See Notes 2, 4.')).toEqual({ text: '', notes: ['2', '4'] });
    expect(stripNoteMarkers('Used to keep system time current. See note 5').notes).toEqual(['5']);
  });
});
