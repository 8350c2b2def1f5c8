"""The PSKC reader and writer (RFC 6030) that bring hardware seeds in (SPEC §2, R-OPS-3).

The FIGURE_* documents are the examples of RFC 6030 §4 and §6, typed in as published
(only indentation differs); figures 6 and 7 carry a valid ValueMAC, so a reader that
accepts them computes the MAC exactly as the RFC does.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from securelogin.adapters.pskc import PskcError, PskcKey, read_pskc
from securelogin.adapters.pskc_writer import write_pskc
from securelogin.domain.otp import hotp, totp

HOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
TOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
RFC_SECRET = b"12345678901234567890"

# RFC 6030 figure 2: the basic container -- no DeviceInfo, so no serial number.
FIGURE_2 = b"""<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" Id="exampleID1" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
    <KeyPackage>
        <Key Id="12345678" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
            <Issuer>Issuer-A</Issuer>
            <Data>
                <Secret>
                    <PlainValue>MTIzNA==
                    </PlainValue>
                </Secret>
            </Data>
        </Key>
    </KeyPackage>
</KeyContainer>
"""

# RFC 6030 figure 3: plaintext secret with supplementary data.
FIGURE_3 = b"""<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" Id="exampleID1" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
    <KeyPackage>
        <DeviceInfo>
            <Manufacturer>Manufacturer</Manufacturer>
            <SerialNo>987654321</SerialNo>
            <UserId>DC=example-bank,DC=net</UserId>
        </DeviceInfo>
        <CryptoModuleInfo>
            <Id>CM_ID_001</Id>
        </CryptoModuleInfo>
        <Key Id="12345678" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
            <Issuer>Issuer</Issuer>
            <AlgorithmParameters>
                <ResponseFormat Length="8" Encoding="DECIMAL"/>
            </AlgorithmParameters>
            <Data>
                <Secret>
                    <PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=
                    </PlainValue>
                </Secret>
                <Counter>
                    <PlainValue>0</PlainValue>
                </Counter>
            </Data>
            <UserId>UID=jsmith,DC=example-bank,DC=net</UserId>
        </Key>
    </KeyPackage>
</KeyContainer>
"""

# RFC 6030 figure 6: AES-128-CBC under the pre-shared key 0x12345678901234567890123456789012,
# MAC key 0x1122334455667788990011223344556677889900 encrypted with the same key.
FIGURE_6_KEY = bytes.fromhex("12345678901234567890123456789012")
FIGURE_6 = b"""<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0"
    xmlns="urn:ietf:params:xml:ns:keyprov:pskc"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">
    <EncryptionKey>
        <ds:KeyName>Pre-shared-key</ds:KeyName>
    </EncryptionKey>
    <MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1">
        <MACKey>
            <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
            <xenc:CipherData>
                <xenc:CipherValue>
    ESIzRFVmd4iZABEiM0RVZgKn6WjLaTC1sbeBMSvIhRejN9vJa2BOlSaMrR7I5wSX
                </xenc:CipherValue>
            </xenc:CipherData>
        </MACKey>
    </MACMethod>
    <KeyPackage>
        <DeviceInfo>
            <Manufacturer>Manufacturer</Manufacturer>
            <SerialNo>987654321</SerialNo>
        </DeviceInfo>
        <CryptoModuleInfo>
            <Id>CM_ID_001</Id>
        </CryptoModuleInfo>
        <Key Id="12345678" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
            <Issuer>Issuer</Issuer>
            <AlgorithmParameters>
                <ResponseFormat Length="8" Encoding="DECIMAL"/>
            </AlgorithmParameters>
            <Data>
                <Secret>
                    <EncryptedValue>
                        <xenc:EncryptionMethod
                        Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
                        <xenc:CipherData>
                            <xenc:CipherValue>
    AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv
                            </xenc:CipherValue>
                        </xenc:CipherData>
                    </EncryptedValue>
                    <ValueMAC>Su+NvtQfmvfJzF6bmQiJqoLRExc=
                    </ValueMAC>
                </Secret>
                <Counter>
                    <PlainValue>0</PlainValue>
                </Counter>
            </Data>
        </Key>
    </KeyPackage>
</KeyContainer>
"""

# RFC 6030 figure 7: PBKDF2 from the password "qwerty" (salt Ej7/PEpyEpw=, 1000 iterations,
# 16-byte key), AES-128-CBC, HMAC-SHA1 MAC.  The PBKDF2 parameters are unqualified, as in
# the RFC.
FIGURE_7 = b"""<?xml version="1.0" encoding="UTF-8"?>
<pskc:KeyContainer
  xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc"
  xmlns:xenc11="http://www.w3.org/2009/xmlenc11#"
  xmlns:pkcs5="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#"
  xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Version="1.0">
    <pskc:EncryptionKey>
        <xenc11:DerivedKey>
            <xenc11:KeyDerivationMethod
              Algorithm="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2">
                <pkcs5:PBKDF2-params>
                    <Salt>
                        <Specified>Ej7/PEpyEpw=</Specified>
                    </Salt>
                    <IterationCount>1000</IterationCount>
                    <KeyLength>16</KeyLength>
                    <PRF/>
                </pkcs5:PBKDF2-params>
            </xenc11:KeyDerivationMethod>
            <xenc:ReferenceList>
                <xenc:DataReference URI="#ED"/>
            </xenc:ReferenceList>
            <xenc11:MasterKeyName>My Password 1</xenc11:MasterKeyName>
        </xenc11:DerivedKey>
    </pskc:EncryptionKey>
    <pskc:MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1">
        <pskc:MACKey>
            <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
            <xenc:CipherData>
                <xenc:CipherValue>
2GTTnLwM3I4e5IO5FkufoOEiOhNj91fhKRQBtBJYluUDsPOLTfUvoU2dStyOwYZx
                </xenc:CipherValue>
            </xenc:CipherData>
        </pskc:MACKey>
    </pskc:MACMethod>
    <pskc:KeyPackage>
        <pskc:DeviceInfo>
            <pskc:Manufacturer>TokenVendorAcme</pskc:Manufacturer>
            <pskc:SerialNo>987654321</pskc:SerialNo>
        </pskc:DeviceInfo>
        <pskc:CryptoModuleInfo>
            <pskc:Id>CM_ID_001</pskc:Id>
        </pskc:CryptoModuleInfo>
        <pskc:Key Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp" Id="123456">
            <pskc:Issuer>Example-Issuer</pskc:Issuer>
            <pskc:AlgorithmParameters>
                <pskc:ResponseFormat Length="8" Encoding="DECIMAL"/>
            </pskc:AlgorithmParameters>
            <pskc:Data>
                <pskc:Secret>
                <pskc:EncryptedValue Id="ED">
                    <xenc:EncryptionMethod
                        Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
                        <xenc:CipherData>
                            <xenc:CipherValue>
      oTvo+S22nsmS2Z/RtcoF8Hfh+jzMe0RkiafpoDpnoZTjPYZu6V+A4aEn032yCr4f
                        </xenc:CipherValue>
                    </xenc:CipherData>
                    </pskc:EncryptedValue>
                    <pskc:ValueMAC>LP6xMvjtypbfT9PdkJhBZ+D6O4w=
                    </pskc:ValueMAC>
                </pskc:Secret>
            </pskc:Data>
        </pskc:Key>
    </pskc:KeyPackage>
</pskc:KeyContainer>
"""

DSC = PskcKey(
    serial="DSC-0001",
    secret=RFC_SECRET,
    algorithm=TOTP_URI,
    digits=6,
    time_interval=30,
    manufacturer="Acme Tokens & Co",
    issuer="securelogin",
    key_id="dsc-1",
)
PLATINUM = PskcKey(
    serial="PLT-0042",
    secret=bytes(range(32)),
    algorithm="urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA1-8:QN08",
    digits=8,
    counter=7,
    key_id="plt-42",
)


def counting_rng() -> Callable[[int], bytes]:
    """Deterministic, distinct bytes: pins the writer's salt, IVs and MAC key."""
    counter = itertools.count(1)
    return lambda size: bytes(next(counter) % 256 for _ in range(size))


def test_rfc_6030_figure_3_plaintext_key_is_read_with_its_device_data() -> None:
    assert read_pskc(FIGURE_3) == [
        PskcKey(
            serial="987654321",
            secret=RFC_SECRET,
            algorithm=HOTP_URI,
            digits=8,
            counter=0,
            manufacturer="Manufacturer",
            issuer="Issuer",
            key_id="12345678",
        )
    ]


def test_rfc_6030_figure_2_is_refused_because_inventory_needs_a_serial() -> None:
    with pytest.raises(PskcError, match=r"^PSKC: key package 1 has no serial number$"):
        read_pskc(FIGURE_2)


def test_rfc_6030_figure_6_pre_shared_aes_128_key_decrypts_and_verifies() -> None:
    (key,) = read_pskc(FIGURE_6, preshared_key=FIGURE_6_KEY)
    assert (key.serial, key.secret, key.counter, key.digits) == ("987654321", RFC_SECRET, 0, 8)
    assert hotp(key.secret, key.counter or 0, digits=8) == "84755224"  # RFC 4226 App. D


def test_rfc_6030_figure_7_password_based_key_decrypts_and_verifies() -> None:
    (key,) = read_pskc(FIGURE_7, password="qwerty")
    assert key == PskcKey(
        serial="987654321",
        secret=RFC_SECRET,
        algorithm=HOTP_URI,
        digits=8,
        manufacturer="TokenVendorAcme",
        issuer="Example-Issuer",
        key_id="123456",
    )


def test_wrong_password_is_refused() -> None:
    with pytest.raises(PskcError, match=r"^PSKC: wrong password"):
        read_pskc(FIGURE_7, password="qwertz")


def test_wrong_pre_shared_key_is_refused() -> None:
    with pytest.raises(PskcError, match=r"^PSKC: wrong password"):
        read_pskc(FIGURE_6, preshared_key=bytes(16))


def test_tampered_ciphertext_fails_the_mac_before_decryption() -> None:
    tampered = FIGURE_6.replace(b"AAECAwQFBgcICQoLDA0OD+cI", b"AAECAwQFBgcICQoLDA0OD+cJ")
    with pytest.raises(
        PskcError, match=r"^PSKC: wrong password or corrupted MAC for key '987654321'$"
    ):
        read_pskc(tampered, preshared_key=FIGURE_6_KEY)


def test_encrypted_value_without_a_mac_is_refused() -> None:
    start, end = FIGURE_6.index(b"<MACMethod"), FIGURE_6.index(b"</MACMethod>")
    without_mac = FIGURE_6[:start] + FIGURE_6[end + len(b"</MACMethod>") :]
    with pytest.raises(PskcError, match="has no MAC"):
        read_pskc(without_mac, preshared_key=FIGURE_6_KEY)


def test_missing_password_or_key_is_reported() -> None:
    with pytest.raises(PskcError, match="encrypted with a password; none was given"):
        read_pskc(FIGURE_7)
    with pytest.raises(PskcError, match="encrypted with a pre-shared key; none was given"):
        read_pskc(FIGURE_6)


def test_unsupported_encryption_algorithm_is_named() -> None:
    des = FIGURE_6.replace(b"xmlenc#aes128-cbc", b"xmlenc#tripledes-cbc")
    with pytest.raises(PskcError, match=r"^PSKC: unsupported encryption algorithm .*tripledes"):
        read_pskc(des, preshared_key=FIGURE_6_KEY)


@pytest.mark.parametrize("protection", ["plain", "password", "aes-256 pre-shared key"])
def test_written_files_read_back_to_the_same_keys(protection: str) -> None:
    psk = bytes(range(100, 132))
    document = write_pskc(
        [DSC, PLATINUM],
        password="correct horse" if protection == "password" else None,
        preshared_key=psk if protection.startswith("aes-256") else None,
        iterations=1000,
        rng=counting_rng(),
    )
    keys = read_pskc(document, password="correct horse", preshared_key=psk)
    assert keys == [DSC, PLATINUM]
    assert totp(keys[0].secret, at=59, digits=8) == "94287082"


def test_password_protected_file_hides_the_secret_and_needs_the_password() -> None:
    document = write_pskc([DSC], password="correct horse", iterations=1000)
    assert b"MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=" not in document
    assert b"pbkdf2" in document and b"<pskc:ValueMAC>" in document
    with pytest.raises(PskcError, match=r"^PSKC: wrong password"):
        read_pskc(document, password="Correct horse")


def test_the_writer_is_deterministic_given_its_random_source() -> None:
    first = write_pskc([DSC], password="pw", iterations=1000, rng=counting_rng())
    second = write_pskc([DSC], password="pw", iterations=1000, rng=counting_rng())
    assert first == second
    assert write_pskc([DSC], password="pw", iterations=1000) != first


def test_writer_refuses_empty_input_and_double_protection() -> None:
    with pytest.raises(PskcError):
        write_pskc([])
    with pytest.raises(PskcError):
        write_pskc([DSC], password="pw", preshared_key=bytes(16))
    with pytest.raises(PskcError):
        write_pskc([DSC], preshared_key=bytes(15))


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">&lol4;</KeyContainer>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE KeyContainer [<!ENTITY serial SYSTEM "file:///etc/passwd">]>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
  <KeyPackage><DeviceInfo><SerialNo>&serial;</SerialNo></DeviceInfo></KeyPackage>
</KeyContainer>
"""
DTD_ONLY = b"""<?xml version="1.0"?>
<!DOCTYPE KeyContainer SYSTEM "http://example.invalid/pskc.dtd">
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"/>
"""


@pytest.mark.parametrize(
    "document", [BILLION_LAUGHS, EXTERNAL_ENTITY, DTD_ONLY], ids=["bomb", "xxe", "dtd"]
)
def test_xml_bombs_entities_and_dtds_are_refused(document: bytes) -> None:
    with pytest.raises(PskcError, match=r"^PSKC: refused unsafe XML"):
        read_pskc(document)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"not xml at all", "not well-formed XML"),
        (b"<KeyContainer Version='1.0'/>", "not an RFC 6030 KeyContainer"),
        (FIGURE_3.replace(b'Version="1.0"', b'Version="2.0"'), "unsupported KeyContainer version"),
        (
            FIGURE_3.replace(b"<KeyPackage>", b"<Other>").replace(b"</KeyPackage>", b"</Other>"),
            "holds no key packages",
        ),
        (FIGURE_3.replace(b"MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=", b"!!!"), "not valid base64"),
        (FIGURE_3.replace(b"<PlainValue>0<", b"<PlainValue>zero<"), "is not an integer"),
        (FIGURE_3.replace(b'Id="12345678" ', b""), "needs both an Id and an Algorithm"),
    ],
)
def test_malformed_documents_raise_one_line_pskc_errors(document: bytes, message: str) -> None:
    with pytest.raises(PskcError, match=message) as caught:
        read_pskc(document)
    assert "\n" not in str(caught.value)


def test_third_package_without_serial_is_reported_by_position() -> None:
    third = PskcKey(serial="NO-SERIAL", secret=b"s" * 20, algorithm=HOTP_URI, key_id="k3")
    document = write_pskc([DSC, PLATINUM, third], rng=counting_rng())
    document = document.replace(b"<pskc:SerialNo>NO-SERIAL</pskc:SerialNo>", b"")
    with pytest.raises(PskcError, match=r"^PSKC: key package 3 has no serial number$"):
        read_pskc(document)


def test_pskc_error_is_a_value_error() -> None:
    assert issubclass(PskcError, ValueError)
