"""boto3 against a Tessera gateway, as Python applications use it (cluster-other-clients.test.ts).

Usage: python3 boto3-round-trip.py <endpoint> <access key id> <secret key> <work dir>
Prints one line `boto3 <version> OK` on success; any failed check raises (non-zero exit).
Every body is compared by SHA-256.
"""
import hashlib
import http.client
import io
import os
import sys
import urllib.parse
import urllib.request

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, access_key, secret_key, work_dir = sys.argv[1:5]
settings = dict(endpoint_url=endpoint, aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name='us-east-1')
s3 = boto3.client('s3', **settings, config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
resource = boto3.resource('s3', **settings, config=Config(s3={'addressing_style': 'path'}))


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def error_code(call):
    try:
        call()
    except ClientError as error:
        return error.response['Error']['Code']
    raise AssertionError('expected an S3 error')


bucket = 'boto3-round-trip'
s3.create_bucket(Bucket=bucket)

# put / head / get (whole, with the response checksum validated, and a range)
body = os.urandom(3 * 1024 * 1024 + 7)
s3.put_object(Bucket=bucket, Key='k1', Body=body, Metadata={'origin': 'boto3'}, ContentType='application/x-test')
head = s3.head_object(Bucket=bucket, Key='k1')
assert (head['ContentLength'], head['Metadata'], head['ContentType']) == (len(body), {'origin': 'boto3'}, 'application/x-test'), head
assert sha256(s3.get_object(Bucket=bucket, Key='k1', ChecksumMode='ENABLED')['Body'].read()) == sha256(body)
assert s3.get_object(Bucket=bucket, Key='k1', Range='bytes=100-199')['Body'].read() == body[100:200]

# managed transfers (s3transfer): threaded multipart upload, parallel ranged download, managed copy
big = os.urandom(20 * 1024 * 1024 + 3)
big_path = os.path.join(work_dir, 'big.bin')
with open(big_path, 'wb') as file:
    file.write(big)
transfer = TransferConfig(multipart_threshold=6 * 1024 * 1024, multipart_chunksize=6 * 1024 * 1024, max_concurrency=4)
s3.upload_file(big_path, bucket, 'big.bin', Config=transfer)
s3.download_file(bucket, 'big.bin', os.path.join(work_dir, 'big.out'), Config=transfer)
with open(os.path.join(work_dir, 'big.out'), 'rb') as file:
    assert sha256(file.read()) == sha256(big)
downloaded = io.BytesIO()
s3.download_fileobj(bucket, 'big.bin', downloaded, Config=transfer)
assert sha256(downloaded.getvalue()) == sha256(big)
s3.copy({'Bucket': bucket, 'Key': 'big.bin'}, bucket, 'big-copy.bin', Config=transfer)
assert sha256(s3.get_object(Bucket=bucket, Key='big-copy.bin')['Body'].read()) == sha256(big)
s3.copy_object(Bucket=bucket, Key='k1-copy', CopySource={'Bucket': bucket, 'Key': 'k1'}, MetadataDirective='REPLACE', Metadata={'copied': 'yes'})
assert s3.head_object(Bucket=bucket, Key='k1-copy')['Metadata'] == {'copied': 'yes'}
attributes = s3.get_object_attributes(Bucket=bucket, Key='big.bin', ObjectAttributes=['ETag', 'ObjectParts', 'ObjectSize'])
assert attributes['ObjectSize'] == len(big) and attributes['ObjectParts']['TotalPartsCount'] == 4, attributes

# paginators (v2 and v1 with a delimiter) and the resource API's batch delete
for index in range(25):
    s3.put_object(Bucket=bucket, Key=f'dir/{index:03d}', Body=b'x')
pages = s3.get_paginator('list_objects_v2').paginate(Bucket=bucket, Prefix='dir/', PaginationConfig={'PageSize': 7})
assert [entry['Key'] for page in pages for entry in page.get('Contents', [])] == [f'dir/{index:03d}' for index in range(25)]
pages = s3.get_paginator('list_objects').paginate(Bucket=bucket, Delimiter='/')
assert [prefix['Prefix'] for page in pages for prefix in page.get('CommonPrefixes', [])] == ['dir/']
deleted = resource.Bucket(bucket).objects.filter(Prefix='dir/').delete()
assert sum(len(batch.get('Deleted', [])) for batch in deleted) == 25
assert s3.list_objects_v2(Bucket=bucket, Prefix='dir/')['KeyCount'] == 0

# presigned URLs (boto3 signs them with SigV2 by default), fetched without the SDK
url = s3.generate_presigned_url('get_object', Params={'Bucket': bucket, 'Key': 'k1'}, ExpiresIn=300)
assert sha256(urllib.request.urlopen(url).read()) == sha256(body)
url = urllib.parse.urlsplit(s3.generate_presigned_url('put_object', Params={'Bucket': bucket, 'Key': 'presigned'}, ExpiresIn=300))
connection = http.client.HTTPConnection(url.hostname, url.port)
connection.request('PUT', f'{url.path}?{url.query}', body=b'put through a presigned URL')
response = connection.getresponse()
assert response.status == 200, (response.status, response.read())
assert s3.get_object(Bucket=bucket, Key='presigned')['Body'].read() == b'put through a presigned URL'

# conditions and errors as boto3 raises them
assert error_code(lambda: s3.get_object(Bucket=bucket, Key='k1', IfNoneMatch=head['ETag'])) == '304'
# Conditional writes entered botocore's model in 2024: older releases (Debian's) cannot send them.
if 'IfNoneMatch' in s3.meta.service_model.operation_model('PutObject').input_shape.members:
    assert error_code(lambda: s3.put_object(Bucket=bucket, Key='k1', Body=b'z', IfNoneMatch='*')) == 'PreconditionFailed'
try:
    s3.get_object(Bucket=bucket, Key='no-such-key')
    raise AssertionError('expected NoSuchKey')
except s3.exceptions.NoSuchKey:
    pass

# flexible checksums the installed botocore computes itself (CRC32C / CRC64NVME need its CRT extra)
for algorithm in ['CRC32', 'SHA1', 'SHA256']:
    s3.put_object(Bucket=bucket, Key=f'checksum-{algorithm}', Body=b'checksum me', ChecksumAlgorithm=algorithm)
    got = s3.get_object(Bucket=bucket, Key=f'checksum-{algorithm}', ChecksumMode='ENABLED')
    assert got['Body'].read() == b'checksum me' and f'Checksum{algorithm}' in got, (algorithm, sorted(got))

# versions, tags and ACLs
s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={'Status': 'Enabled'})
first = s3.put_object(Bucket=bucket, Key='versioned', Body=b'one')['VersionId']
second = s3.put_object(Bucket=bucket, Key='versioned', Body=b'two')['VersionId']
assert s3.get_object(Bucket=bucket, Key='versioned', VersionId=first)['Body'].read() == b'one'
assert [version['VersionId'] for version in s3.list_object_versions(Bucket=bucket, Prefix='versioned')['Versions']] == [second, first]
s3.put_object_tagging(Bucket=bucket, Key='k1', Tagging={'TagSet': [{'Key': 'team', 'Value': 'data'}]})
assert s3.get_object_tagging(Bucket=bucket, Key='k1')['TagSet'] == [{'Key': 'team', 'Value': 'data'}]
assert [grant['Permission'] for grant in s3.get_object_acl(Bucket=bucket, Key='k1')['Grants']] == ['FULL_CONTROL']

# everything removed, versions and delete markers too, then the bucket
resource.Bucket(bucket).object_versions.delete()
s3.delete_bucket(Bucket=bucket)
assert error_code(lambda: s3.head_bucket(Bucket=bucket)) == '404'
print(f'boto3 {boto3.__version__} OK')
