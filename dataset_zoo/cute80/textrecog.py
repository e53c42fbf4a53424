# CUTE80 (Risnumawan et al., 2014): 288 curved test words. The annotation is the
# MMOCR JSON with the typo fixes of clovaai/deep-text-recognition-benchmark, whose
# img_path entries already point to textrecog_imgs/test/, so no parsing is needed.
# The JSON is cached as ct80_textrecog_test.json (MMOCR caches it as
# textrecog_test.json, the same cache name as its IC13 file: they overwrite each
# other in a shared cache dir) and renamed into place by the mapping.
# `data_root` and `cache_path` are defaults; tools/prepare_dataset.py overrides both.
data_root = 'data/cute80'
cache_path = 'data/cache'

test_preparer = dict(
    obtainer=dict(
        type='NaiveDataObtainer',
        cache_path=cache_path,
        files=[
            dict(
                url='https://download.openmmlab.com/mmocr/data/mixture/ct80/'
                'timage.tar.gz',
                save_name='ct80.tar.gz',
                md5='9f3b1fe0e76f1fdfc70de3a365603d5e',
                content=['image'],
                mapping=[['ct80/timage', 'textrecog_imgs/test']]),
            dict(
                url='https://download.openmmlab.com/mmocr/data/1.x/recog/ct80/'
                'textrecog_test.json',
                save_name='ct80_textrecog_test.json',
                md5='9c5c79d843b900325e7fd453b318cad9',
                content=['annotation'],
                mapping=[['ct80_textrecog_test.json', 'textrecog_test.json']]),
        ]))

# Leftovers of a re-run (the mapping never overwrites an existing target).
delete = ['ct80', 'ct80_textrecog_test.json']
config_generator = dict(type='TextRecogConfigGenerator', train_anns=None)
